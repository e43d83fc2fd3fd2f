#!/usr/bin/perl

# Redis Cluster (issue 9): discovery from seeds, routing by the tenant's
# slot, MOVED and ASK followed while a tenant's slot moves, CLUSTERDOWN
# and an uncovered slot (503 + Retry-After, the error.log line), two
# nginx instances on one cluster, scim_redis_wait with a replica stopped.

use strict;
use warnings;

use lib 't/lib';
use ScimTest;
use ScimCluster;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();

plan(skip_all => 'redis-server or redis-cli not found')
    unless ScimCluster->available;

my $t = ScimTest->new(workers => 2, ports => 2, cluster => 1, timeout => 400);
my $c = $t->cluster;

my @primaries = $c->primaries;
is(scalar @primaries, 3, 'a cluster of 3 primaries');
my @replicas = $c->replicas;
is(scalar @replicas, 3, '... and 3 replicas');

# tenants whose slots are on given primaries
my %used;
sub tenant_on {
    my ($port, $not) = @_;
    for my $i (1 .. 10000) {
        my $name = "tn$i";
        next if $used{$name};
        my $owner = $c->owner($c->slot("{$name}"));
        next unless defined $owner;
        next if defined $port && $owner != $port;
        next if defined $not && $owner == $not;
        $used{$name} = 1;
        return $name;
    }
    die "no tenant found";
}

my $A = tenant_on($primaries[0]);      # busy, moved while requests run
my $B = tenant_on($primaries[1]);      # made uncovered
my $C = tenant_on($primaries[2]);      # moved with no keys: ASK
my $W = tenant_on($primaries[0]);      # scim_redis_wait
note("tenants: A $A, B $B, C $C, W $W");

my $loc = sub {
    my ($name, $tenant, $extra) = @_;
    $extra //= '';
    return <<"EOF";
    location /$name/scim/v2/ {
        scim;
        scim_tenant $tenant;
        scim_bearer_token_file %%TOKEN_FILE%%;
$extra
    }
EOF
};

my $conf = <<"EOF";
scim_redis %%REDIS%%;
scim_redis_connect_timeout 1s;
scim_redis_timeout 3s;

server {
    listen 127.0.0.1:%%PORT%%;
    listen 127.0.0.1:%%PORT2%% http2;
    server_name localhost;
EOF
$conf .= $loc->('a', $A) . $loc->('b', $B) . $loc->('c', $C)
    . $loc->('w', $W, '        scim_redis_wait 1 300ms;') . "}\n";

$t->write_config($conf);
$t->start_nginx_ok;

sub user {
    my ($name) = @_;
    return { schemas => [URN_USER], userName => $name };
}

# ------------------------------------------------ routing by the slot

my (%ids, $r);
for my $x (['a', $A], ['b', $B], ['c', $C]) {
    my ($l, $tenant) = @$x;
    $r = $t->post("/$l/scim/v2/Users", user(unique_name($l)));
    is($r->{status}, 201, "tenant $tenant: create") or diag explain $r;
    my $id = $r->{json}{id} // 'none';
    $ids{$l} = $id;
    $r = $t->get("/$l/scim/v2/Users/$id");
    is($r->{status}, 200, "tenant $tenant: read back");
    my $owner = $c->owner($c->slot("{$tenant}"));
    my $keys = $c->node_cmd($owner, 'KEYS', "scim:{$tenant}:*") // [];
    ok(@$keys > 0, "tenant $tenant: stored on the primary serving its "
                   . "slot ($owner)");
    my @others = grep { $_ != $owner } $c->primaries;
    is(scalar(map { @{ $c->node_cmd($_, 'KEYS', "scim:{$tenant}:*") // [] } }
              @others), 0, "... and on no other primary");
}
isnt($c->owner($c->slot("{$A}")), $c->owner($c->slot("{$B}")),
     'tenants A and B live on different primaries');

like($t->error_log, qr/is a node of a Redis Cluster/,
     'error.log: cluster mode discovered');
unlike($t->error_log, qr/MOVED from|ASK from/,
       'every command went to the right primary at once (no MOVED: the '
       . 'CRC16 of the hash tag is right)');

# ------------------------------------------------- configuration

{
    my $base = "server {\n    listen 127.0.0.1:%%PORT%%;\n"
        . "    location /x/ {\n        scim;\n        scim_tenant x;\n"
        . "        scim_bearer_token_file %%TOKEN_FILE%%;\n";
    my ($ok, $out) = $t->nginx_t($base . "        scim_redis %%REDIS%%;\n"
        . "        scim_redis_wait 2 100ms;\n    }\n}\n");
    ok($ok, 'nginx -t: seeds and scim_redis_wait') or diag $out;
    ($ok, $out) = $t->nginx_t($base . "        scim_redis_timeout 1s;\n"
        . "        scim_redis_wait 1 1s;\n    }\n}\n");
    ok(!$ok && $out =~ /must be shorter than "scim_redis_timeout"/,
       'nginx -t: a WAIT timeout not shorter than scim_redis_timeout')
        or diag $out;
    ($ok, $out) = $t->nginx_t($base . "        scim_redis_wait x 1s;\n"
        . "    }\n}\n");
    ok(!$ok && $out =~ /invalid number of replicas "x"/,
       'nginx -t: a bad number of replicas') or diag $out;
    ($ok, $out) = $t->nginx_t($base . "        scim_redis_wait 1 0;\n"
        . "    }\n}\n");
    ok(!$ok && $out =~ /invalid timeout "0"/, 'nginx -t: WAIT for ever')
        or diag $out;
    ($ok, $out) = $t->nginx_t($base
        . "        scim_redis 127.0.0.1:1 unix:/tmp/x.sock;\n    }\n}\n");
    ok(!$ok && $out =~ /cannot be one of several seeds/,
       'nginx -t: a unix socket among seeds') or diag $out;
    ($ok, $out) = $t->nginx_t($base
        . "        scim_redis 127.0.0.1:1 no.such.host.invalid:2;\n"
        . "    }\n}\n");
    ok(!$ok && $out =~ /no\.such\.host\.invalid/,
       'nginx -t: a bad seed named') or diag $out;
}

# ------------------------------------------------------------ ASK

# While a slot moves, a script whose keys are not all on one side gets
# ASK from the source, then TRYAGAIN from the target: the module retries
# until the move ends (SETSLOT NODE), then follows MOVED.

sub in_child {
    my ($code) = @_;
    my $file = $t->dir . '/child-' . int(rand(1e9)) . '.json';
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $t->{conn} = {};
        my $r = eval { $code->() } // { died => "$@" };
        if (open my $fh, '>:raw', $file) {
            print $fh json_encode($r);
            close $fh;
        }
        POSIX::_exit(0);
    }
    return sub {
        waitpid($pid, 0);
        return json_decode($t->read_file($file =~ s{.*/}{}r) // 'null');
    };
}

{
    my $slot = $c->slot("{$C}");
    my $to = (grep { $_ != $c->owner($slot) } $c->primaries)[0];
    my $mark = $t->log_mark;
    my $wait;
    ok($c->migrate_slot($slot, $to, moved_keys => sub {
        # MIGRATING on the source, IMPORTING on the target, every key
        # moved: the source answers ASK
        $wait = in_child(sub {
            my $g = $t->get("/c/scim/v2/Users/$ids{c}");
            my $p = $t->post('/c/scim/v2/Users', user(unique_name('ask')));
            return { get => $g->{status}, post => $p->{status},
                     id => $p->{json}{id} };
        });
        sleep 0.8;
    }), 'tenant C: slot moved by hand') or diag $c->error;
    my $res = $wait ? $wait->() : {};
    is($res->{get}, 200, 'during the move: a read') or diag explain $res;
    is($res->{post}, 201, 'during the move: a create') or diag explain $res;
    my $log = $t->log_since($mark);
    my $asks = () = $log =~ /\(ASK from/g;
    my $moved = () = $log =~ /\(MOVED from/g;
    ok($asks >= 1 && $moved >= 1, "ASK ($asks) and MOVED ($moved) followed");
    my $id = $res->{id} // 'none';
    ok(@{ $c->node_cmd($to, 'KEYS', "scim:{$C}:*") // [] } > 0
       && !grep({ @{ $c->node_cmd($_, 'KEYS', "scim:{$C}:*") // [] } }
                grep { $_ != $to } $c->primaries),
       'tenant C: every key on the new owner, none elsewhere');
    $r = $t->get("/c/scim/v2/Users/$id");
    is($r->{status}, 200, 'after the move: read');
}

# ---------------------------------- a busy tenant moved under requests

{
    my @seeded;
    for my $i (1 .. 30) {
        $r = $t->post('/a/scim/v2/Users', user(unique_name('busy')));
        push @seeded, $r->{json}{id} if $r->{status} == 201;
    }
    is(scalar @seeded, 30, 'tenant A: 30 users');

    my $slot = $c->slot("{$A}");
    my $from = $c->owner($slot);
    my $to = (grep { $_ != $from } $c->primaries)[0];
    my $done = $t->dir . '/migrated';
    my $mark = $t->log_mark;

    my $res = $t->parallel(2, sub {
        my ($i) = @_;
        if ($i == 0) {
            $c->{conns} = {};
            sleep 0.3;
            my $ok = $c->migrate_slot($slot, $to, batch => 4, pause => 0.02);
            open my $fh, '>', $done;
            close $fh;
            return { ok => $ok, error => $c->error };
        }
        my (%st, $n);
        my $until = time + 30;
        while (time < $until) {
            my $last = -e $done;
            my $x = $seeded[$n++ % @seeded];
            my $g = $t->get("/a/scim/v2/Users/$x");
            $st{"get $g->{status}"}++;
            my $p = $t->post('/a/scim/v2/Users', user(unique_name('mv')));
            $st{"post $p->{status}"}++;
            my $l = $t->get('/a/scim/v2/Users?'
                            . qs(filter => 'userName sw "busy"', count => 5));
            $st{"list $l->{status}"}++;
            last if $last;
        }
        return \%st;
    }, timeout => 60);

    ok($res->[0]{ok}, 'tenant A: slot moved while requests ran')
        or diag explain $res->[0];
    my %st = %{$res->[1] // {}};
    my @bad = grep { !/ (?:200|201)$/ } keys %st;
    ok(%st && !@bad, 'every request during the move succeeded')
        or diag explain \%st;
    note(explain \%st);
    is($c->owner($slot), $to, "the slot is on $to now");
    my $log = $t->log_since($mark);
    my $moved = () = $log =~ /\(MOVED from/g;
    my $asked = () = $log =~ /\(ASK from/g;
    ok($moved >= 1, "MOVED followed ($moved seen, ASK $asked)");
    $r = $t->get("/a/scim/v2/Users/$seeded[0]");
    is($r->{status}, 200, 'a user of before the move reads');
    is(scalar(@{ $c->node_cmd($from, 'KEYS', "scim:{$A}:*") // [1] }), 0,
       'no key of tenant A left on the old owner');
}

# --------------------------------------- two nginx on the same cluster

{
    my $t2 = ScimTest->new(workers => 1, redis => 0);
    $t2->token($t->token);
    $t2->write_file('tokens', "# test tokens\n" . $t->token . "\n");
    my $conf2 = "scim_redis " . $c->seeds . ";\nserver {\n"
        . "    listen 127.0.0.1:%%PORT%%;\n" . $loc->('a', $A) . "}\n";
    $t2->write_config($conf2);
    $t2->start_nginx_ok('a second nginx on the same cluster');
    $r = $t->post('/a/scim/v2/Users', user(unique_name('one')));
    my $id1 = $r->{json}{id} // 'none';
    $r = $t2->get("/a/scim/v2/Users/$id1");
    is($r->{status}, 200, 'the second nginx reads what the first wrote');
    $r = $t2->post('/a/scim/v2/Users', user(unique_name('two')));
    is($r->{status}, 201, 'the second nginx writes');
    my $id2 = $r->{json}{id} // 'none';
    $r = $t->get("/a/scim/v2/Users/$id2");
    is($r->{status}, 200, 'the first nginx reads what the second wrote');
    ok($t2->stop_nginx, 'the second nginx stops');
    $t2->no_alerts_since(0, 'second nginx: no alert');
}

# ---------------------------------------------- scim_redis_wait

{
    my $owner = $c->owner($c->slot("{$W}"));
    my ($replica) = $c->replica_of($owner);
    ok($replica, "tenant W's primary $owner has a replica ($replica)");
    $r = $t->post('/w/scim/v2/Users', user(unique_name('w')));
    is($r->{status}, 201, 'scim_redis_wait 1, replica running: 201');
    my $mark = $t->log_mark;
    $c->signal($replica, 'STOP');
    $r = $t->post('/w/scim/v2/Users', user(unique_name('w')));
    $c->signal($replica, 'CONT');
    is_scim_error($r, 503, undef, 'scim_redis_wait 1, replica stopped');
    ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
    like($t->log_since($mark), qr/write not confirmed by 1 replicas/,
         'error.log: write not confirmed');
    my $ok;
    for (1 .. 50) {
        $r = $t->post('/w/scim/v2/Users', user(unique_name('w')));
        last if $ok = $r->{status} == 201;
        sleep 0.2;
    }
    ok($ok, 'replica running again: 201');
}

# -------------------------------------- failover of tenant A's primary

{
    my $slot = $c->slot("{$A}");
    my $owner = $c->owner($slot);
    my ($replica) = $c->replica_of($owner);
    my $mark = $t->log_mark;
    $t->{allow_log} = qr/scim redis|cluster/;
    $c->kill_node($owner);
    my (%st, $ok, $first_ok);
    my $t0 = time;
    while (time - $t0 < 40) {
        my $p = $t->post('/a/scim/v2/Users', user(unique_name('fo')));
        $st{$p->{status}}++;
        if ($p->{status} == 201) {
            $ok = $p->{json}{id};
            last;
        }
        sleep 0.1;
    }
    ok($ok, sprintf('primary of tenant A killed (SIGKILL): writes again '
                    . 'after %.1f s', time - $t0)) or diag explain \%st;
    my @bad = grep { $_ != 201 && $_ != 503 } keys %st;
    ok(!@bad, 'meanwhile 503 only, never 500') or diag explain \%st;
    is($c->owner($slot), $replica, "its replica $replica took over");
    $r = $t->get("/a/scim/v2/Users/" . ($ok // 'none'));
    is($r->{status}, 200, 'and reads');
    ok($c->restart_node($owner), 'the old primary restarted (a replica now)');
    ok($c->wait_ok(30), 'cluster ok again');
}

# ------------------------------------- CLUSTERDOWN, an uncovered slot

{
    my $slot = $c->slot("{$B}");
    my $owner = $c->owner($slot);
    my $mark = $t->log_mark;
    $t->{allow_log} = qr/not covered|CLUSTERDOWN|cluster is down/;
    $c->node_cmd($_, 'CLUSTER', 'DELSLOTS', $slot) for $c->ports;
    sleep 0.5;
    $r = $t->post('/b/scim/v2/Users', user(unique_name('down')));
    is_scim_error($r, 503, undef, 'uncovered slot: 503');
    ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
    # the map refresh sees it
    my $seen;
    for (1 .. 30) {
        $r = $t->get("/b/scim/v2/Users/$ids{b}");
        last if $seen = $t->log_since($mark) =~ /slots not covered by any node: \Q$slot-$slot\E/;
        sleep 0.2;
    }
    ok($seen, 'error.log: the uncovered slot named') or diag $t->log_since($mark);
    is($r->{status}, 503, 'a read of the uncovered slot: 503');
    $r = $t->get("/a/scim/v2/Users?count=1");
    is($r->{status}, 503, 'the whole cluster is down meanwhile (full coverage '
                          . 'required): 503');

    # requests given up by their HTTP/2 clients while their commands wait
    # for a retry: answered (503) at their deadline to a connection that
    # is gone, nothing left behind (nginx keeps such a request until it is
    # finalized, so its store operation is not cancelled)
  SKIP: {
        my $curl = `sh -c 'command -v curl' 2>/dev/null`;
        chomp $curl;
        skip 'no curl', 2 unless $curl;
        my $t0 = time;
        my @pids;
        for my $i (1 .. 4) {
            my $pid = fork;
            die "fork: $!" unless defined $pid;
            if ($pid == 0) {
                open STDOUT, '>', '/dev/null';
                open STDERR, '>', '/dev/null';
                exec($curl, '-s', '--http2-prior-knowledge', '-m', '0.4',
                     '-H', 'Authorization: Bearer ' . $t->token,
                     'http://127.0.0.1:' . $t->port(2)
                     . "/a/scim/v2/Users/$ids{a}") or POSIX::_exit(127);
            }
            push @pids, $pid;
        }
        my %rc;
        for my $pid (@pids) {
            waitpid($pid, 0);
            $rc{$? >> 8}++;
        }
        is_deeply(\%rc, { 28 => 4 }, 'four HTTP/2 clients gave up on '
                  . 'their requests (curl: timeout)');
        # past their deadline
        sleep 3.5;
        my @h2 = grep { m{HTTP/2\.0" } } split /\n/,
                 $t->read_file('access.log') // '';
        is(scalar(grep { m{" 503 } } @h2), 4, 'the four answered 503 when '
           . 'their deadline passed') or diag join("\n", @h2);
    }
    $c->node_cmd($owner, 'CLUSTER', 'ADDSLOTS', $slot);
    ok($c->wait_ok(30), 'slot served again');
    my $ok;
    for (1 .. 50) {
        $r = $t->get("/b/scim/v2/Users/$ids{b}");
        last if $ok = $r->{status} == 200;
        sleep 0.2;
    }
    ok($ok, 'and the tenant reads again');
}

$t->finish;

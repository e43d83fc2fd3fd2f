#!/usr/bin/perl

# The scripts as Redis 7 functions (issue 13): the module calls them by
# FCALL of the library store/lua/gen.pl makes (its name from gen.pl
# --library), loads it with FUNCTION LOAD REPLACE where Redis has not got
# it (first call, after FUNCTION FLUSH, with requests in flight, on each
# primary of a cluster), and runs the scripts by EVALSHA on a Redis
# without functions: FUNCTION renamed away (rename-command) or FCALL
# denied by an ACL, said once at notice; and for 10 s when Redis refuses
# FUNCTION LOAD (out of memory).  Every answer is the same on
# either path.  Cluster-capable (CLUSTER_TESTS); the parts that restart
# or reconfigure the redis-server run on a single one only.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep time);
use ScimTest;
use ScimLua;

my $t = ScimTest->new(workers => 2);
my (undef, $LIB) = ScimLua->library;
like($LIB, qr/^scim_[0-9a-f]{12}$/, "the library: $LIB");

my @TENANTS = map { "fn$_" } 1 .. 6;
my $extra = join('', map { <<"EOF" } @TENANTS[1 .. $#TENANTS]);
    location /$_/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $_;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }
EOF
$t->write_config($t->standard_conf(tenant => $TENANTS[0],
                                   server_extra => $extra));
$t->start_nginx_ok;

sub base { $_[0] eq $TENANTS[0] ? '/scim/v2' : "/$_[0]/scim/v2" }

my $SEQ = 0;

# a user's whole life in tenant $ten: POST, GET, PATCH, filter, DELETE;
# the statuses, joined
sub cycle {
    my ($ten) = @_;
    my $b = base($ten);
    my $name = "u" . ++$SEQ . "-$$-" . int(rand(1e9)) . '@example.com';
    my $r = $t->post("$b/Users", entra_user(userName => $name));
    my @s = ($r->{status});
    my $id = $r->{json}{id} // 'none';
    push @s, $t->get("$b/Users/$id")->{status};
    push @s, $t->patch("$b/Users/$id",
                       patch_body({ op => 'replace', path => 'displayName',
                                    value => "D $name" }))->{status};
    push @s, $t->get("$b/Users?" . qs(filter => "userName eq \"$name\""))
                ->{json}{totalResults} // 'none';
    push @s, $t->post("$b/Users", entra_user(userName => $name))->{status};
    push @s, $t->del("$b/Users/$id")->{status};
    push @s, $t->get("$b/Users/$id")->{status};
    return join(' ', @s);
}

my $OK = '201 200 200 1 409 204 404';

# the libraries on each primary (FUNCTION LIST), { port => [names] }
sub libraries {
    my @ports = $t->cluster ? $t->cluster->primaries : ($t->redis_port);
    my %l;
    for my $p (@ports) {
        my $r = $t->cluster ? $t->cluster->node_cmd($p, 'FUNCTION', 'LIST')
                            : $t->redis_cmd('FUNCTION', 'LIST');
        $l{$p} = [sort map { my %h = @$_; $h{library_name} } @{ $r // [] }];
    }
    return \%l;
}

# ------------------------------------------------------------- FCALL

my $res;
my $seen = $t->redis_monitor(sub { $res = cycle($TENANTS[0]) });
is($res, $OK, 'a user\'s life: every answer as expected');
my @fcall = grep { $_->[0] eq 'FCALL' } @$seen;
my %called = map { $_->[1] => 1 } @fcall;
ok($called{"${LIB}_create"} && $called{"${LIB}_replace"}
   && $called{"${LIB}_delete_id"} && $called{"${LIB}_get"},
   'create, replace, delete_id, get: FCALL of the library\'s functions')
    or diag explain [keys %called];
is_deeply([ grep { $_->[0] =~ /^EVAL/ } @$seen ], [],
          'no EVAL, no EVALSHA');
is_deeply([ grep { $_->[0] eq 'SCRIPT' } @$seen ], [], 'no SCRIPT LOAD');
my @loads = grep { $_->[0] eq 'FUNCTION' } @$seen;
ok(!grep({ uc($_->[1]) ne 'LOAD' || uc($_->[2]) ne 'REPLACE'
           || $_->[3] !~ /^#!lua name=$LIB\\n/ } @loads),
   'FUNCTION LOAD REPLACE of the library, if any (' . scalar(@loads) . ')')
    or diag explain [map { [@$_[0 .. 2]] } @loads];
my $libs = libraries();
ok(!grep({ !grep { $_ eq $LIB } @{ $libs->{$_} } } keys %$libs)
   || $t->cluster, 'Redis has the library') or diag explain $libs;

# -------------------------------------------------- FUNCTION FLUSH

# flushed while nothing runs: the next call loads it again
ok($t->redis_cmd('FUNCTION', 'FLUSH'), 'FUNCTION FLUSH');
$seen = $t->redis_monitor(sub { $res = cycle($TENANTS[0]) });
is($res, $OK, 'after FUNCTION FLUSH: every answer as expected');
@loads = grep { $_->[0] eq 'FUNCTION' && uc($_->[1]) eq 'LOAD' } @$seen;
ok(@loads >= 1, 'the library loaded again (' . scalar(@loads) . ')');
my $nf = grep { $_->[0] eq 'FCALL' } @$seen;
ok($nf > 7, "and the calls retried after it ($nf FCALLs for 7 requests)");

# flushed again and again while requests are in flight on every
# connection: no request sees it
my $stop = $t->dir . '/stop-flush';
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my $end = time + 30;
    while (time < $end && !-e $stop) {
        $t->redis_cmd('FUNCTION', 'FLUSH');
        sleep 0.05;
    }
    POSIX::_exit(0);
}
my $runs = $t->parallel(8, sub {
    my ($i) = @_;
    my @r;
    push @r, cycle($TENANTS[$i % @TENANTS]) for 1 .. 6;
    return \@r;
}, timeout => 120);
$t->write_file('stop-flush', '');
waitpid($pid, 0);
my @all = map { @{ $_ // ['no result'] } } @$runs;
is(scalar(@all), 48, '8 clients x 6 lives while FUNCTION FLUSH runs every '
   . '50 ms');
is_deeply([ grep { $_ ne $OK } @all ], [], '... every answer as expected');

# a cluster: each primary loaded it when a call found it missing
@all = map { cycle($_) } @TENANTS;
is_deeply([ grep { $_ ne $OK } @all ], [], 'every tenant: as expected');
if ($t->cluster) {
    my %own = map { $t->cluster->owner(ScimCluster::slot("{$_}")) => 1 }
              @TENANTS;
    $libs = libraries();
    my @with = grep { grep { $_ eq $LIB } @{ $libs->{$_} } } keys %$libs;
    ok(keys(%own) >= 2, 'cluster: the tenants on ' . scalar(keys %own)
       . ' primaries');
    is_deeply([sort @with], [sort keys %own],
              '... each of them has the library, loaded by the calls')
        or diag explain $libs;
}

# ------------------------------------------------ no functions: EVALSHA

SKIP: {
    skip 'a cluster: its nodes are not restarted here', 28 if $t->cluster;

    # out of memory: FUNCTION LOAD is refused (EVAL is not): the reads go
    # on by EVALSHA, for a while, then by FCALL again
    my $u = $t->post('Users', entra_user(userName => 'oom@example.com'));
    is($u->{status}, 201, 'a user');
    my $uid = $u->{json}{id} // 'none';
    my $v = $t->post('Users', entra_user(userName => 'oom2@example.com'));
    is($v->{status}, 201, 'another');
    my $mark = $t->log_mark;
    ok($t->redis_cmd('CONFIG', 'SET', 'maxmemory', '1'), 'maxmemory 1');

    # the library there: reads (no-writes) and deletes (allow-oom) work,
    # a create fails, as with EVALSHA (its first write was refused)
    is($t->get("Users/$uid")->{status}, 200, 'out of memory: GET 200');
    is($t->del('Users/' . ($v->{json}{id} // 'none'))->{status}, 204,
       '... DELETE 204');
    my $p = $t->post('Users', entra_user(userName => 'oom3@example.com'));
    like($p->{status}, qr/^5/, "... POST: $p->{status}");
    is(($p->{json} // {})->{schemas}[0], URN_ERROR, '... a SCIM error');

    ok($t->redis_cmd('FUNCTION', 'FLUSH'), '... FUNCTION FLUSH');
    my ($r, $e) = $t->redis_cmd('FUNCTION', 'LOAD', ScimLua->library);
    like($e // '', qr/^OOM/, '... FUNCTION LOAD is refused');
    $seen = $t->redis_monitor(sub {
        $res = join(' ', map { $t->get("Users/$uid")->{status} } 1 .. 4);
    });
    is($res, '200 200 200 200', 'out of memory, no library: GET answered');
    ok(grep({ $_->[0] =~ /^EVAL/ } @$seen), '... by EVALSHA or EVAL');
    like($t->log_since($mark),
         qr/\[error\][^\n]*FUNCTION\ LOAD\ of\ the\ scripts
            \ failed:\ OOM[^\n]*EVALSHA/x,
         '... the failed load logged');
    ok($t->redis_cmd('CONFIG', 'SET', 'maxmemory', '0'), 'maxmemory 0');
    is(cycle($TENANTS[0]), $OK, '... every answer as expected');
    sleep 10.5;
    $seen = $t->redis_monitor(sub { $res = cycle($TENANTS[0]) });
    is($res, $OK, '10 s later: every answer as expected');
    ok(grep({ $_->[0] eq 'FCALL' } @$seen)
       && !grep({ $_->[0] =~ /^EVAL/ } @$seen), '... by FCALL again');

    # FCALL denied to the user (ACL): NOPERM
    $mark = $t->log_mark;
    ok($t->redis_cmd('ACL', 'SETUSER', 'default', '-fcall'), 'ACL: -fcall');
    $seen = $t->redis_monitor(sub {
        $res = join(' / ', map { cycle($TENANTS[0]) } 1 .. 3);
    });
    is($res, join(' / ', ($OK) x 3), 'FCALL denied: every answer as expected');
    ok(grep({ $_->[0] eq 'EVALSHA' } @$seen), '... by EVALSHA');
    my $log = $t->log_since($mark);
    my @notice = $log =~ /\[notice\]\ (\d+)\#\d+:\ scim\ redis\ [^\n]*
                          no\ Redis\ functions\ \(NOPERM[^\n]*EVALSHA/xg;
    my %per;
    $per{$_}++ for @notice;
    ok(@notice >= 1 && !grep({ $_ > 1 } values %per),
       'said at notice, once by a worker (' . scalar(@notice) . ')')
        or diag $log;
    ok($t->redis_cmd('ACL', 'SETUSER', 'default', '+@all'), 'ACL: +@all');

    # rename-command FUNCTION "": FCALL finds no library, FUNCTION LOAD is
    # an unknown command
    $t->stop_redis;
    $t->{redis_opts} = ['--rename-command', 'FUNCTION', ''];
    ok($t->start_redis, 'redis with rename-command FUNCTION ""');
    ($r, $e) = $t->redis_cmd('FUNCTION', 'LIST');
    like($e // '', qr/unknown command/, '... FUNCTION is unknown');
    sleep 0.5;
    $mark = $t->log_mark;
    $seen = $t->redis_monitor(sub {
        $res = join(' / ', map { cycle($TENANTS[$_]) } 0 .. 3);
    });
    is($res, join(' / ', ($OK) x 4), 'no FUNCTION: every answer as expected');
    ok(grep({ $_->[0] eq 'EVALSHA' } @$seen), '... by EVALSHA');
    $log = $t->log_since($mark);
    unlike($log, qr/\[(?:error|alert|crit)\]/, '... no error logged')
        or diag $log;

    @notice = $t->error_log
              =~ /\[notice\] (\d+)#\d+: scim redis [^\n]*no Redis functions/g;
    %per = ();
    $per{$_}++ for @notice;
    ok(!grep({ $_ > 1 } values %per), 'no functions: said once by a worker')
        or diag $t->error_log;

    # and SCRIPT FLUSH: EVAL of the text after NOSCRIPT
    ok($t->redis_cmd('SCRIPT', 'FLUSH'), 'SCRIPT FLUSH');
    is(cycle($TENANTS[0]), $OK, '... every answer as expected');
}

$t->finish;

#!/usr/bin/perl

# Redis Sentinel (issue 9): "scim_redis_sentinel <master> host:port ..."
# finds the primary through the Sentinels, confirms it with ROLE, and
# finds the new one after a failover (SENTINEL FAILOVER, kill -9 of the
# primary): writes succeed again within seconds, and a write during the
# switch gets 503 with Retry-After, never a 500 or HTML.  A primary
# turned into a replica (READONLY) gets 503 and the Sentinels are asked
# again; +promoted-slave moves the connections; with no Sentinel
# answering a request waits at most about scim_redis_connect_timeout.  A
# replica given to scim_redis as the only address is said in error.log
# (once per worker): writes get 503, reads work.  A master the Sentinels
# do not know, a wrong Sentinel password: 503 and a line.  nginx -t
# rejects the bad directives.
#
# One primary, two replicas, three Sentinels with requirepass
# (t/lib/ScimSentinel.pm); down-after-milliseconds 1000.  The longest run
# of failed writes in each failover, and the acknowledged writes it lost,
# are printed with diag.  Takes about 30 s.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;
use ScimSentinel;

my $WORKERS = 2;
my $t = ScimTest->new(workers => $WORKERS, ports => 5, redis => 0,
                      timeout => 400);
my $PW = 'sentinel-pw-' . int(rand(1e9));
my $s = ScimSentinel->new($t, replicas => 2, sentinels => 3,
                          sentinel_password => $PW);

my $SENT = $s->directive;
my ($REPLICA) = $s->replica_ports;
my @SP = map { "127.0.0.1:$_" } $s->sentinel_ports;

sub loc {
    my ($redis) = @_;
    return <<"EOF";
    location /scim/v2/ {
        scim;
        $redis
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 2s;
        scim_redis_timeout 2s;
    }
EOF
}

# ------------------------------------------------------------- nginx -t

sub conf_t {
    my ($loc, $server_extra) = @_;
    $server_extra //= '';
    return "server {\n    listen 127.0.0.1:%%PORT%%;\n$server_extra\n"
           . loc($loc) . "}\n";
}

my ($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel $SENT;"));
ok($ok, 'nginx -t: scim_redis_sentinel') or diag($out);

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel $SENT;",
                                 "    scim_redis 127.0.0.1:6379;"));
ok($ok, 'nginx -t: scim_redis in the server, scim_redis_sentinel in the '
        . 'location') or diag($out);

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel $SENT;\n"
                                 . "        scim_redis_sentinel_password x;"));
ok($ok, 'nginx -t: scim_redis_sentinel_password') or diag($out);

($ok, $out) = $t->nginx_t(conf_t("scim_redis 127.0.0.1:6379;\n"
                                 . "        scim_redis_sentinel $SENT;"));
ok(!$ok, 'nginx -t fails: scim_redis and scim_redis_sentinel in one block');
like($out, qr/"scim_redis_sentinel" directive cannot be used with "scim_redis" in the same block in \S+nginx-t-\d+\.conf:\d+/,
     '... naming both, the file and the line');

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel $SENT;\n"
                                 . "        scim_redis 127.0.0.1:6379;"));
ok(!$ok, 'nginx -t fails: the other order');
like($out, qr/"scim_redis" directive cannot be used with "scim_redis_sentinel" in the same block in \S+:\d+/,
     '... naming both, the file and the line');

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel mymaster;"));
ok(!$ok, 'nginx -t fails: a master name without sentinels');
like($out, qr/invalid number of arguments in "scim_redis_sentinel"/,
     '... invalid number of arguments');

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel mymaster $SP[0] "
                                 . "unix:/tmp/x.sock;"));
ok(!$ok, 'nginx -t fails: a unix socket as a sentinel');
like($out, qr{invalid sentinel address "unix:/tmp/x.sock" in "scim_redis_sentinel".* in \S+:\d+},
     '... naming the address and the line');

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel mymaster "
                                 . "127.0.0.1:70000;"));
ok(!$ok, 'nginx -t fails: a bad port');
like($out, qr/invalid sentinel address "127.0.0.1:70000"/, '... named');

($ok, $out) = $t->nginx_t(conf_t("scim_redis_sentinel $SENT;\n"
                                 . "        scim_redis_sentinel $SENT;"));
ok(!$ok, 'nginx -t fails: scim_redis_sentinel twice');
like($out, qr/"scim_redis_sentinel" directive is duplicate/, '... duplicate');

# ------------------------------------------------------------ the server

# "other": a master of the same Sentinels on X, a Redis of its own, that
# this test turns into a replica (of Y) and back
my ($X, $Y) = ($t->free_port, $t->free_port);
ok($s->start_node($X) && $s->start_node($Y), "Redis X ($X) and Y ($Y) "
   . 'started') or $t->abort('no X, Y');
for my $sp ($s->sentinel_ports) {
    $s->cmd($sp, 'SENTINEL', 'MONITOR', 'other', '127.0.0.1', $X, 2);
    $s->cmd($sp, 'SENTINEL', 'SET', 'other', 'down-after-milliseconds',
            1000);
}

# 1: through the Sentinels; 2: a replica as the only address; 3: a
# master the Sentinels do not know; 4: a wrong Sentinel password; 5:
# "other"
$t->write_config(
    "scim_redis_sentinel_password $PW;\n"
    . "server {\n    listen 127.0.0.1:%%PORT1%%;\n"
    . loc("scim_redis_sentinel $SENT;") . "}\n"
    . "server {\n    listen 127.0.0.1:%%PORT2%%;\n"
    . loc("scim_redis 127.0.0.1:$REPLICA;") . "}\n"
    . "server {\n    listen 127.0.0.1:%%PORT3%%;\n"
    . loc("scim_redis_sentinel nosuchmaster @SP;") . "}\n"
    . "server {\n    listen 127.0.0.1:%%PORT4%%;\n"
    . loc("scim_redis_sentinel $SENT;\n"
          . "        scim_redis_sentinel_password wrong-$PW;") . "}\n"
    . "server {\n    listen 127.0.0.1:%%PORT5%%;\n"
    . loc("scim_redis_sentinel other @SP;") . "}\n");
$t->start_nginx_ok;

my $P1 = $t->port(1);
my $P2 = $t->port(2);
my $P3 = $t->port(3);
my $primary = $s->primary_port;

my $r = $t->post('Users', { schemas => [URN_USER],
                            userName => 'first@example.com' });
is_scim_json($r, 201, 'POST through the Sentinels');
my $first = $r->{json}{id} // 'none';
is_scim_json($t->get("Users/$first"), 200, 'GET through the Sentinels');
ok($s->cmd($primary, 'DBSIZE') > 0, "the user is on the primary ($primary)");

# ------------------------------------------ a replica as the only address

$s->wait_synced(10);
my $deadline = time + 10;
do {
    $r = $t->get("Users/$first", port => $P2);
} while ($r->{status} != 200 && time < $deadline && sleep 0.1);
is_scim_json($r, 200, "GET from the replica ($REPLICA) given to scim_redis "
                      . 'works');

for my $i (1 .. 3) {
    $r = $t->post('Users', { schemas => [URN_USER],
                             userName => "replica$i\@example.com" },
                  port => $P2);
    is_scim_error($r, 503, undef, "POST to the replica: 503 ($i)");
    ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
}

my @lines = grep { /redis 127\.0\.0\.1:$REPLICA is a replica of 127\.0\.0\.1:\d+; writes will fail: point scim_redis at the primary or use scim_redis_sentinel/ }
            split /\n/, $t->error_log;
ok(@lines >= 1 && @lines <= $WORKERS,
   'error.log says the address is a replica, once per worker ('
   . scalar(@lines) . ' lines)') or diag($t->tail('error.log', 20));
unlike($t->error_log, qr/redis 127\.0\.0\.1:$primary is a replica/,
       'nothing of the kind about the primary');

# ------------------------------------------- a master nobody knows

$r = $t->get("Users/$first", port => $P3);
is_scim_error($r, 503, undef, 'a master the Sentinels do not know: 503');
ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
like($t->error_log, qr/does not know "nosuchmaster"/,
     '... and error.log says why');

# ------------------------------------------- a wrong Sentinel password

$r = $t->get("Users/$first", port => $t->port(4));
is_scim_error($r, 503, undef, 'a wrong scim_redis_sentinel_password: 503');
ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
like($t->error_log, qr/sentinel 127\.0\.0\.1:\d+: AUTH failed: WRONGPASS/,
     '... and error.log says why');
unlike($t->error_log, qr/\Q$PW\E/, 'no password in error.log');

# ------------------------------- the primary turns into a replica: READONLY

my $P5 = $t->port(5);
sub post5 {
    return $t->post('Users', { schemas => [URN_USER],
                               userName => unique_name('x') }, port => $P5);
}

is_scim_json(post5(), 201, "a write to \"other\" (X, $X)");
my $mark = $t->log_mark;
is($s->cmd($X, 'REPLICAOF', '127.0.0.1', $Y), 'OK', 'X made a replica of Y');
$r = post5();
is_scim_error($r, 503, undef, 'the next write: 503 (READONLY), not 500');
ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
my @st = map { post5()->{status} } 1 .. 5;
is(join(',', grep { $_ != 503 } @st), '', 'the writes after it: 503 ('
   . join(',', @st) . ')');
my $log = $t->log_since($mark);
like($log, qr/scim redis other primary 127\.0\.0\.1:$X: READONLY: a replica now, asking the sentinels/,
     'error.log: READONLY, asking the Sentinels');
like($log, qr/scim redis other primary 127\.0\.0\.1:$X: is a replica of 127\.0\.0\.1:$Y, asking the sentinels again/,
     '... which still name X: its ROLE says replica');

is($s->cmd($X, 'REPLICAOF', 'NO', 'ONE'), 'OK', 'X a primary again');
$deadline = time + 15;
do { $r = post5() } while ($r->{status} != 201 && time < $deadline
                           && sleep 0.1);
is_scim_json($r, 201, 'writes to "other" succeed again');

# ------------------------------------------------------------- failovers

# the workers that have moved to the primary on port $p since log mark
sub moved {
    my ($mark, $p) = @_;
    my %w;
    for (split /\n/, $t->log_since($mark)) {
        $w{$1} = 1 if /\[notice\] (\d+)#\d+: scim redis mymaster primary \S+: the sentinels name a new primary: 127\.0\.0\.1:$p\b/;
    }
    return scalar keys %w;
}

# the workers that logged +promoted-slave of replica $p from Sentinel $sp
sub promoted {
    my ($mark, $sp, $p) = @_;
    my %w;
    for (split /\n/, $t->log_since($mark)) {
        $w{$1} = 1 if /\[notice\] (\d+)#\d+: scim redis sentinel 127\.0\.0\.1:$sp: \+promoted-slave slave 127\.0\.0\.1:$p /;
    }
    return scalar keys %w;
}

# POSTs one after the other; $switch->() after 1 s of them returns the
# old primary's port; then on until the Sentinels agree on a new primary,
# every worker has moved to it and 20 writes in a row have succeeded
# after that.  Every answer must be a 201 or a SCIM 503 with Retry-After.
sub writes_through {
    my ($what, $switch) = @_;

    my (@acked, @bad, $old, $new, $switched, $last_ok, $run_start);
    my ($gap, $n503, $in_row, $checked, $moved) = (0, 0, 0, 0, 0);
    my $start = time;
    my $mark = $t->log_mark;

    $last_ok = $start;

    while (time - $start < 120) {
        if (!defined $switched && time - $start > 1) {
            $old = $switch->();
            $switched = time;
        }

        my $name = unique_name('fo');
        my $r = $t->post('Users', { schemas => [URN_USER],
                                    userName => $name }, timeout => 20);
        my $now = time;

        if ($r->{status} == 201) {
            push @acked, [$r->{json}{id}, $name];
            $gap = $now - $last_ok if $now - $last_ok > $gap;
            $last_ok = $now;
            $in_row++;

        } else {
            $in_row = 0;

            if ($r->{status} == 503 && defined $r->{headers}{'retry-after'}
                && ($r->{json}{status} // '') eq '503'
                && scim_ctype_ok($r) && no_html($r))
            {
                $n503++;

            } else {
                push @bad, "$r->{status} "
                    . substr($r->{content} // $r->{error} // '', 0, 200);
            }
        }

        if (defined $switched && !defined $new
            && $now - $checked > 0.5)
        {
            $checked = $now;
            $new = $s->new_primary($old);
        }

        if (defined $new && $moved < $WORKERS && $now - $checked > 0.5) {
            $checked = $now;
            $moved = moved($mark, $new);
            $in_row = 0;
        }

        last if $moved == $WORKERS && $in_row >= 20;
        sleep 0.02;
    }

    ok(defined $switched && defined $old, "$what: done (old primary "
       . ($old // '?') . ')');
    ok(defined $new, "$what: the Sentinels agree on a new primary ("
       . ($new // 'none') . ')');
    ok($in_row >= 20, "$what: writes succeed again ($in_row in a row at "
       . 'the end)');
    is(scalar(@bad), 0, "$what: every failed write is a SCIM 503 with "
       . "Retry-After ($n503 of them), never a 500 or HTML")
        or diag(join("\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]));
    diag(sprintf("%s: the longest interval without a successful write: "
                 . "%.2f s (%d writes answered 503, %d acknowledged)",
                 $what, $gap, $n503, scalar @acked));
    ok($gap < 30, sprintf("%s: writes resumed within 30 s (%.1f s)",
                          $what, $gap));

    is($moved, $WORKERS, "$what: every worker moved to the new primary "
       . '(error.log)');

    # what an asynchronous replica may lose in a failover, for the record
    my $lost = 0;
    for my $a (@acked) {
        my $g = $t->get("Users/$a->[0]");
        $lost++ if $g->{status} == 404;
    }
    diag("$what: acknowledged writes lost: $lost of " . scalar(@acked)
         . ' (asynchronous replication, no scim_redis_wait)');

    return $new;
}

my $new = writes_through('SENTINEL FAILOVER', sub {
    my $old = $s->primary_port;
    is($s->failover, 'OK', 'SENTINEL FAILOVER accepted');
    return $old;
});

is_scim_json($t->get("Users/$first"), 200,
             'a user written before the failover is read after it');

# the demoted primary is a replica now: wait for the set to settle, so
# that the next failover has a replica to promote
$s->wait_synced(30);
sleep 2;

$new = writes_through('kill -9 of the primary', sub {
    my $old = $s->kill_primary;
    ok(defined $old, "the primary ($old) killed");
    return $old;
});

is_scim_json($t->get("Users/$first"), 200,
             'a user written before both failovers is read after them');

# every worker moved: each answers writes (keepalive off: new connections
# spread over the workers)
@st = ();
for my $i (1 .. 12) {
    push @st, $t->post('Users', { schemas => [URN_USER],
                                  userName => unique_name('after') },
                       keepalive => 0)->{status};
}
is(join(',', grep { $_ != 201 } @st), '', 'writes after both failovers, '
   . 'on fresh connections: all 201');

# ------------- +promoted-slave: from the Sentinel that does the failover

# nginx again, with one Sentinel: the one SENTINEL FAILOVER is sent to
# (the first), which does the failover itself and says +promoted-slave a
# second or so before +switch-master
ok($t->stop_nginx, 'nginx stopped');
my ($S0) = $s->sentinel_ports;
$t->write_config("server {\n    listen 127.0.0.1:%%PORT1%%;\n"
                 . loc("scim_redis_sentinel_password $PW;\n"
                       . "        scim_redis_sentinel mymaster "
                       . "127.0.0.1:$S0;") . "}\n"
                 . join('', map { "server { listen 127.0.0.1:%%PORT$_%%; }\n" }
                                2 .. 5));
$t->start_nginx_ok('nginx started again, with the first Sentinel alone');
$deadline = time + 15;
do {
    $r = $t->post('Users', { schemas => [URN_USER],
                             userName => unique_name('one') });
} while ($r->{status} != 201 && time < $deadline && sleep 0.1);
is_scim_json($r, 201, 'a write through it');

# the watch connections cut: made again
$mark = $t->log_mark;
ok($s->cmd($S0, 'CLIENT', 'KILL', 'TYPE', 'pubsub') >= $WORKERS,
   "the workers' SUBSCRIBE connections to $S0 killed");
my $watching = sub {
    my %w;
    for (split /\n/, $t->log_since($mark)) {
        $w{$1} = 1 if /\[notice\] (\d+)#\d+: scim redis sentinel 127\.0\.0\.1:$S0: watching for failovers/;
    }
    return scalar keys %w;
};
$deadline = time + 20;
sleep 0.2 while $watching->() < $WORKERS && time < $deadline;
is($watching->(), $WORKERS, 'each worker subscribes again');
like($t->log_since($mark), qr/\[warn\] \d+#\d+: scim redis sentinel 127\.0\.0\.1:$S0: connection lost: .*no failover notices from it/,
     '... after a warning');

ok($s->wait_synced(30), 'the replicas are in sync');
$mark = $t->log_mark;
my $old = $s->primary_port;
# on $S0 itself, whose notices the workers watch (another Sentinel would
# publish +promoted-slave only to its own subscribers)
is($s->failover_on($S0, 30), 'OK', "SENTINEL FAILOVER on $S0 (primary $old)");
$new = $s->wait_new_primary($old, 60);
ok(defined $new, 'a new primary (' . ($new // 'none') . ')');
$deadline = time + 30;
sleep 0.2 while moved($mark, $new // 0) < $WORKERS && time < $deadline;
is(moved($mark, $new // 0), $WORKERS, 'every worker moved to it');
# Sentinel publishes +promoted-slave only when its INFO of the replica
# shows the promotion within failover-timeout (3 s) and it is not in
# TILT mode (a timer late by over 2 s: a heavily loaded machine); then
# it aborts, and another failover moves the workers.  So: when S0's own
# log says it published +promoted-slave, every worker must have logged
# it; when not, there was no notice to act on.
my $s0log = $t->read_file("$s->{dir}/sentinel-$S0.log") // '';
my $published = $s0log =~ /\+promoted-slave slave 127\.0\.0\.1:$new /;
SKIP: {
    skip("Sentinel $S0 did not publish +promoted-slave (its log: "
         . join(' | ', grep { /tilt|failover-abort|promoted/i }
                       split /\n/, $s0log) . ')', 1)
        unless $published;
    $deadline = time + 10;
    sleep 0.2 while promoted($mark, $S0, $new // 0) < $WORKERS
                    && time < $deadline;
    is(promoted($mark, $S0, $new // 0), $WORKERS,
       '... every worker on +promoted-slave')
        or diag($t->log_since($mark));
}
$deadline = time + 15;
do {
    $r = $t->post('Users', { schemas => [URN_USER],
                             userName => unique_name('one') });
} while ($r->{status} != 201 && time < $deadline && sleep 0.1);
is_scim_json($r, 201, 'writes succeed');

# ------------------------- no Sentinel answers: requests wait, boundedly

# (last: a Sentinel stopped for seconds goes into TILT mode for 30 s)
is($s->signal_sentinels('STOP'), 3, 'every Sentinel stopped (SIGSTOP)');
$s->cmd($new, 'CLIENT', 'KILL', 'TYPE', 'normal');
sleep 0.3;                  # the workers see their connections closed
$r = $t->post('Users', { schemas => [URN_USER],
                         userName => unique_name('stop') }, timeout => 20);
is_scim_error($r, 503, undef, 'the connection lost, no Sentinel answers: '
              . 'a write gets 503');
ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
ok($r->{elapsed} > 1 && $r->{elapsed} < 10, sprintf('... after waiting '
   . 'for the primary, at most about scim_redis_connect_timeout (2 s): '
   . '%.2f s', $r->{elapsed}));
like($t->log_since($mark), qr/no address of the primary from the sentinels|no sentinel named the primary/,
     '... error.log says so');
is($s->signal_sentinels('CONT'), 3, 'the Sentinels continued');
$deadline = time + 20;
do {
    $r = $t->post('Users', { schemas => [URN_USER],
                             userName => unique_name('cont') });
} while ($r->{status} != 201 && time < $deadline && sleep 0.1);
is_scim_json($r, 201, 'writes succeed again');

$t->finish;
$s->finish;

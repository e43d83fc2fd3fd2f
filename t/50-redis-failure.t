#!/usr/bin/perl

# Redis failures: a Redis that stops answering (SIGSTOP, CLIENT PAUSE) or
# is down (stopped, killed) -> 503 SCIM error within ~3 s (scim_redis_timeout
# 2s); the module reconnects by itself when Redis is back (no reload);
# late replies after a timeout are never matched to the wrong request;
# scripts flushed (NOSCRIPT) or connections killed are recovered from;
# wrong-type keys and corrupt documents -> 5xx SCIM error, no crash; a
# 1 MB reply is read whole.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2, timeout => 400,
    no_cluster => 'stops and restarts the one redis-server');
my $T = 'acme';
my $LIMIT = 3.5;            # seconds: scim_redis_timeout 2s + slack

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

my $ua = $t->create_user(entra_user(userName => 'alpha@example.com', displayName => 'Alpha'))->{json} // {};
my $ub = $t->create_user(entra_user(userName => 'beta@example.com', displayName => 'Beta'))->{json} // {};
my ($aid, $bid) = ($ua->{id} // 'none', $ub->{id} // 'none');
is_scim_json($t->get("Users/$aid"), 200, 'baseline GET');

sub fast_503 {
    my ($res, $name) = @_;
    is_scim_error($res, 503, undef, "$name -> 503 SCIM error");
    ok($res->{elapsed} < $LIMIT, sprintf("%s: answered in %.2fs (< %ss)", $name,
                                          $res->{elapsed}, $LIMIT));
}

# poll until GET /Users/$id is 200 (max $max s); returns seconds taken or
# undef.  Each worker reconnects on its own, so "back" means 10 answers in
# a row on new connections (spread over the workers), not the first one.
sub back_within {
    my ($id, $max) = @_;
    my $t0 = time;
    my $ok = 0;
    while (time - $t0 < $max) {
        my $r = $t->get("Users/$id", timeout => 5, keepalive => 0);
        if ($r->{status} == 200) {
            return time - $t0 if ++$ok >= 10;
            next;
        }
        $ok = 0;
        sleep 0.05;
    }
    return undef;
}

# replies go to the right requests.  A 503 is no wrong reply: right after
# Redis comes back, a worker whose connection attempt failed meanwhile
# (a handshake that timed out while Redis caught up with what queued up
# during the stop) refuses requests at once for 100 ms before it tries
# again; such a request is asked again, for up to 10 s, and only a
# reply for another request (or a 503 that lasts) counts as bad
sub coherent {
    my ($name) = @_;
    my @bad;
    my $ask = sub {
        my ($req) = @_;
        my $r;
        my $t0 = time;
        do { $r = $req->() } while ($r->{status} == 503 && time - $t0 < 10
                                    && sleep 0.05);
        return $r;
    };
    for (1 .. 5) {
        for my $u ([$aid, 'alpha@example.com'], [$bid, 'beta@example.com']) {
            my $r = $ask->(sub { $t->get("Users/$u->[0]") });
            push @bad, "GET $u->[0]: $r->{status} " . ($r->{json}{userName} // '')
                unless $r->{status} == 200 && ($r->{json}{userName} // '') eq $u->[1];
        }
        my $r = $ask->(sub { $t->list(filter => 'userName eq "beta@example.com"') });
        push @bad, "filter beta: " . ($r->{json}{Resources}[0]{id} // 'none')
            unless $r->{status} == 200 && ($r->{json}{Resources}[0]{id} // '') eq $bid;
    }
ok(!@bad, "$name: every reply matches its request") or diag join("\n", @bad);
}

# ------------------------------------------------ Redis not answering

$t->redis_signal('STOP');
fast_503($t->get("Users/$aid"), 'SIGSTOPped redis: GET /Users/{id}');
fast_503($t->post('Users', entra_user()), 'SIGSTOPped redis: POST');
fast_503($t->list(filter => 'userName eq "alpha@example.com"'), 'SIGSTOPped redis: filter');
fast_503($t->patch_ops($aid, { op => 'Replace', path => 'title', value => 'x' }),
         'SIGSTOPped redis: PATCH');
fast_503($t->delete("Users/$bid"), 'SIGSTOPped redis: DELETE');
my $t0 = time;
my $par = $t->parallel(8, sub { my $r = $t->get("Users/$aid"); [ $r->{status}, $r->{elapsed} ] });
ok(!grep({ !$_ || $_->[0] != 503 || $_->[1] >= $LIMIT + 1 } @$par),
   '8 parallel requests against a stopped redis: all 503 in time')
    or diag explain $par;
$t->redis_signal('CONT');
my $took = back_within($aid, 10);
ok(defined $took, 'after SIGCONT: serving again' . (defined $took ? sprintf(' (%.1fs)', $took) : ''));
coherent('after SIGCONT (late replies discarded)');
$t->redis_cmd('DEL', "scim:{$T}:nothing");   # our own connection, after CONT

$t->redis_cmd('CLIENT', 'PAUSE', 4000, 'ALL');
fast_503($t->get("Users/$aid"), 'CLIENT PAUSE 4000: GET');
sleep 2;
$took = back_within($aid, 10);
ok(defined $took, 'after the pause: serving again');
coherent('after CLIENT PAUSE');

# ----------------------------------------------------------- Redis down

ok($t->stop_redis(save => 1), 'redis stopped (SHUTDOWN SAVE)');
fast_503($t->get("Users/$aid"), 'redis down: GET');
fast_503($t->post('Users', entra_user()), 'redis down: POST');
fast_503($t->list(filter => 'userName eq "x"'), 'redis down: filter (Test Connection)');
my @e;
for (1 .. 5) { push @e, $t->get("Users/$aid", keepalive => 0)->{elapsed} }
ok(!grep({ $_ >= $LIMIT } @e), 'redis down: 5 more requests, each fast')
    or diag "@e";
is_scim_error($t->get("Users/$aid"), 503, undef, 'still 503 while down (no cached success)');

ok($t->start_redis, 'redis restarted on the same port');
$took = back_within($aid, 10);
ok(defined $took, 'serving again without reload' . (defined $took ? sprintf(' (%.1fs)', $took) : ''));
coherent('after restart');
my $r = $t->post('Users', entra_user(userName => 'after.restart@example.com'));
is_scim_json($r, 201, 'POST after restart (scripts loaded again)');
my $cid = $r->{json}{id} // 'none';

# ---------------------------------------------------- NOSCRIPT, CLIENT KILL

is($t->redis_cmd('SCRIPT', 'FLUSH'), 'OK', 'SCRIPT FLUSH');
is_scim_json($t->post('Users', entra_user(userName => 'after.flush@example.com')), 201,
             'POST after SCRIPT FLUSH (NOSCRIPT -> EVAL)');
is_scim_json($t->patch_ops($cid, { op => 'Replace', path => 'title', value => 'x' }), 200,
             'PATCH after SCRIPT FLUSH');
is_scim_error($t->post('Users', entra_user(userName => 'after.flush@example.com')), 409,
              'uniqueness', 'uniqueness still enforced after SCRIPT FLUSH');

$t->redis_cmd('CLIENT', 'KILL', 'TYPE', 'normal');
delete $t->{redis_conn};
my @st;
my $t1 = time;
while (time - $t1 < 10) {
    my $res = $t->get("Users/$aid", keepalive => 0);
    push @st, $res->{status};
    last if $res->{status} == 200;
    sleep 0.2;
}
is($st[-1], 200, 'connections killed by redis: serving again (' . join(',', @st) . ')');
ok(!grep({ $_ != 200 && $_ != 503 } @st), '... answers meanwhile were 200 or 503');
coherent('after CLIENT KILL');

# ------------------------------------------------ killed with requests pending

$t->redis_signal('STOP');
my $pid = fork;
if (defined $pid && $pid == 0) {
    sleep 0.5;
    kill 'KILL', $t->redis_pid;
    POSIX::_exit(0);
}
$r = $t->get("Users/$aid", keepalive => 0);
waitpid($pid, 0) if $pid;
$t->stop_redis;     # reap it
fast_503($r, 'redis SIGKILLed while a request waits');
ok($t->start_redis, 'redis started again (data from dump.rdb)');
ok(defined back_within($aid, 10), 'serving again after SIGKILL');

# ------------------------------------------------ unexpected data in Redis

my $good = $t->redis_cmd('HGET', "scim:{$T}:User:docs", $aid);
$t->redis_cmd('HSET', "scim:{$T}:User:docs", $aid, 'this is not JSON {');
$r = $t->get("Users/$aid");
ok($r->{status} >= 500 && $r->{status} <= 503, "corrupt stored document -> 5xx ($r->{status})");
is_scim_error($r, $r->{status}, undef, 'corrupt stored document: SCIM error body');
$r = $t->patch_ops($aid, { op => 'Replace', path => 'title', value => 'x' });
ok($r->{status} >= 500 && $r->{status} <= 503, "PATCH of a corrupt document -> 5xx ($r->{status})");
$t->redis_cmd('HSET', "scim:{$T}:User:docs", $aid, $good);
is_scim_json($t->get("Users/$aid"), 200, 'restored document readable');

$t->redis_cmd('RENAME', "scim:{$T}:User:ids", "scim:{$T}:User:ids.saved");
$t->redis_cmd('SET', "scim:{$T}:User:ids", 'wrong type');
$r = $t->list(count => 5);
ok($r->{status} >= 500 && $r->{status} <= 503, "ids key of the wrong type: list -> 5xx ($r->{status})");
is_scim_error($r, $r->{status}, undef, 'wrong type: SCIM error body');
$r = $t->post('Users', entra_user());
ok($r->{status} >= 500 && $r->{status} <= 503, "ids key of the wrong type: POST -> 5xx ($r->{status})");
$t->redis_cmd('RENAME', "scim:{$T}:User:ids.saved", "scim:{$T}:User:ids");
is_list_response($t->list(count => 0), undef, 0, 'list works again');

# an id in the zset whose document is gone (a half-applied manual cleanup)
my $ghost = $t->create_user(entra_user(userName => 'ghost@example.com'))->{json}{id} // 'none';
$t->redis_cmd('HDEL', "scim:{$T}:User:docs", $ghost);
$r = $t->list(count => 100);
ok($r->{status} == 200 || ($r->{status} >= 500 && $r->{status} <= 503),
   "list with a dangling id -> 200 or a 5xx ($r->{status}), no crash");
ok(scim_ctype_ok($r) && no_html($r), '... a SCIM answer');
is_scim_error($t->get("Users/$ghost"), 404, undef, 'GET of the dangling id -> 404');
$t->redis_cmd('ZREM', "scim:{$T}:User:ids", $ghost);
$t->redis_cmd('HDEL', "scim:{$T}:User:idx:userName", 'ghost@example.com');

# a 1 MB document: the reply spans many reads
my $doc = json_decode($t->redis_cmd('HGET', "scim:{$T}:User:docs", $bid) // '') // {};
$doc->{displayName} = 'D' x (1024 * 1024);
$t->redis_cmd('HSET', "scim:{$T}:User:docs", $bid, json_encode($doc));
$r = $t->get("Users/$bid", timeout => 20);
is($r->{status}, 200, 'GET of a 1 MB stored document -> 200');
is(length($r->{json}{displayName} // ''), 1024 * 1024, 'the 1 MB displayName is whole');
coherent('after the 1 MB reply');

$t->finish;

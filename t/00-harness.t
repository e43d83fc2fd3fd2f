#!/usr/bin/perl

# Self-test of t/lib/ScimTest.pm without the module: redis-server and nginx
# start, answer, reload, stop; the raw HTTP client, keep-alive, pipelining,
# the RESP client, redis stop/restart on the same port, parallel clients.
# If this file fails, the environment (not the module) is broken.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(module => 0, workers => 2, redis_unix => 1,
    no_cluster => 'tests the one-redis-server harness');

is($t->redis_cmd('PING'), 'PONG', 'redis PING');
is($t->redis_cmd('SET', 'k', "v\x{263a}"), 'OK', 'redis SET');
is($t->redis_cmd('GET', 'k'), "v\xe2\x98\xba", 'redis GET (bytes)');
is($t->redis_cmd('GET', 'nope'), undef, 'redis nil');
my ($r, $e) = $t->redis_cmd('NOSUCHCMD');
ok(!defined $r && $e =~ /ERR/, 'redis error reply') or diag $e;
is_deeply(scalar $t->redis_cmd('MGET', 'k', 'nope'), ["v\xe2\x98\xba", undef], 'redis array');
ok(-S $t->redis_sock, 'redis unix socket exists');

$t->write_config(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location /scim/v2/ {
        default_type application/scim+json;
        return 200 '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"x"}';
    }
    location /chunked {
        default_type text/plain;
        return 200 "hello";
    }
}
EOF
ok($t->start_nginx, 'nginx started') or BAIL_OUT('nginx does not start');
is(scalar(my @w = $t->worker_pids), 2, '2 workers');

my $res = $t->get('Users');
is($res->{status}, 200, 'GET 200');
is_deeply($res->{json}{schemas}, [URN_ERROR], 'JSON decoded');
ok(scim_ctype_ok($res), 'content type');
$res->{status} = 400;
is_scim_error($res, 400, 'invalidValue', 'is_scim_error works');

# keep-alive: same socket reused
my $sock1 = $t->{conn}{$t->port}{sock};
$t->get('Users');
ok($sock1 && $t->{conn}{$t->port}{sock} == $sock1, 'keep-alive connection reused');

# pipelining, raw bytes
my $req = "GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n";
$res = $t->raw_request($req x 3 , count => 3);
is(scalar @{$res->{all}}, 3, '3 pipelined responses');
is($res->{all}[2]{content}, 'hello', 'third body');

# timeout on a server that never answers
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
    Listen => 5, Proto => 'tcp');
my $t0 = time;
$res = $t->raw_request("GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    port => $l->sockport, timeout => 1);
ok($res->{status} == 599 && time - $t0 < 3, 'client timeout bounded');
close $l;

# reload: new workers
my %old = map { $_ => 1 } $t->worker_pids;
ok($t->reload(wait_old => 1), 'reload: new workers up');
my @new = $t->worker_pids;
ok(@new == 2 && !grep({ $old{$_} } @new), 'old workers gone');
is($t->get('Users')->{status}, 200, 'serves after reload');

# parallel clients
my $out = $t->parallel(10, sub { $t->get('Users')->{status} });
is_deeply($out, [ (200) x 10 ], '10 parallel clients');

# redis stop (with save) and restart on the same port
$t->redis_cmd('SET', 'persist', 'yes');
ok($t->stop_redis(save => 1), 'redis stopped');
ok(!defined scalar $t->redis_cmd('PING'), 'redis down');
ok($t->start_redis, 'redis restarted on the same port');
is($t->redis_cmd('GET', 'persist'), 'yes', 'data kept across restart');

# SIGSTOP: commands time out, SIGCONT: back
$t->redis_signal('STOP');
($r, $e) = $t->redis_cmd({ timeout => 1 }, 'PING');
is($e, 'timeout', 'stopped redis times out');
$t->redis_signal('CONT');
is($t->redis_cmd('PING'), 'PONG', 'redis back after SIGCONT');

like(scim_get_path({ emails => [{ type => 'home', value => 'a' },
                                  { type => 'work', value => 'b' }] },
                   'emails[type eq "work"].value'), qr/^b$/, 'scim_get_path');
is(scim_get_path({ roles => [{ primary => jtrue, display => 'd' }] },
                 'roles[primary eq "True"].display'), 'd', 'scim_get_path bool');
is(scim_get_path({ URN_ENT() => { manager => { value => 'm' } } },
                 URN_ENT . ':manager')->{value}, 'm', 'scim_get_path urn');
is(entra_filter_qs('userName', 'a b"c'), 'filter=userName+eq+%22a%20b%22c%22',
   'entra_filter_qs');
ok(iso8601_ok('2024-01-02T03:04:05.123Z') && iso8601_ok('2024-01-02T03:04:05+01:00')
   && !iso8601_ok('2024-01-02 03:04:05'), 'iso8601_ok');

$t->finish;

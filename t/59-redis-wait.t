#!/usr/bin/perl

# scim_redis_wait with one Redis server (not a cluster) and its replica:
# a write is acknowledged once the replica has it, else 503 with
# Retry-After and "write not confirmed" in error.log; reads never wait.

use strict;
use warnings;

use lib 't/lib';
use ScimTest;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);

my $t = ScimTest->new(workers => 1,
    no_cluster => 'one redis-server and a replica of its own');

# a replica of the test's redis-server
my $rport = $t->free_port;
my $rdir = $t->dir . '/replica';
mkdir $rdir;
my $rpid = fork;
die "fork: $!" unless defined $rpid;
if ($rpid == 0) {
    open STDIN, '<', '/dev/null';
    open STDOUT, '>>', "$rdir/redis.out";
    open STDERR, '>&', \*STDOUT;
    exec($t->{redis_server}, '--port', $rport, '--bind', '127.0.0.1',
         '--save', '', '--appendonly', 'no', '--dir', $rdir,
         '--logfile', "$rdir/redis.log", '--protected-mode', 'no',
         '--replicaof', '127.0.0.1', $t->redis_port)
        or POSIX::_exit(127);
}
END { if ($rpid) { kill 'CONT', $rpid; kill 'TERM', $rpid; waitpid($rpid, 0) } }

my $synced;
for (1 .. 100) {
    my $info = $t->redis_cmd('INFO', 'replication') // '';
    last if $synced = $info =~ /connected_slaves:1/
                      && $info =~ /slave0:.*state=online/;
    sleep 0.1;
}
ok($synced, 'a replica attached');

$t->write_config($t->standard_conf(extra => <<'EOF', tenant => 'w'));
        scim_redis_wait 1 300ms;
EOF
$t->start_nginx_ok;

my $r = $t->create_user(unique_name('w'));
is($r->{status}, 201, 'replica running: 201');
my $id = $r->{json}{id} // 'none';

my $mark = $t->log_mark;
kill 'STOP', $rpid;
my $t0 = time;
$r = $t->post('Users', { schemas => [URN_USER], userName => unique_name('w') });
my $took = time - $t0;
is_scim_error($r, 503, undef, 'replica stopped: a create gets 503');
ok(defined $r->{headers}{'retry-after'}, '... with Retry-After');
ok($took >= 0.25, sprintf('... after the WAIT timeout (%.2f s)', $took));
like($t->log_since($mark), qr/\[warn\].*write not confirmed by 1 replicas/,
     'error.log: write not confirmed');

$r = $t->get("Users/$id");
is($r->{status}, 200, 'replica stopped: a read does not wait');

$r = $t->request('DELETE', "Users/$id");
is_scim_error($r, 503, undef, 'replica stopped: a delete gets 503');
kill 'CONT', $rpid;

my $ok;
for (1 .. 50) {
    $r = $t->create_user(unique_name('w'), quiet => 1);
    last if $ok = $r->{status} == 201;
    sleep 0.1;
}
ok($ok, 'replica running again: 201');

$r = $t->request('DELETE', "Users/$id");
ok($r->{status} == 204 || $r->{status} == 404,
   "the delete again: $r->{status} (404 if the first one persisted)");

$t->finish;

#!/usr/bin/perl

# Reconnecting (issue 7, defect 3): a connection that Redis closes right
# after it was made is made again at once, so requests just after are
# served, not answered 503 (only failed attempts are throttled); requests
# that arrive while a connection is being made wait for it: they succeed
# when Redis answers within scim_redis_connect_timeout, and get 503 with
# Retry-After when it does not; a client that goes away while its request
# waits leaves nothing behind.  One worker, so that every request meets
# the connection the test just killed.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(workers => 1, timeout => 300,
    no_cluster => 'stops and pauses the one redis-server');
my $CONNECT = 3;            # scim_redis_connect_timeout, seconds

$t->write_config(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;

    location /scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout ${CONNECT}s;
        scim_redis_timeout 2s;
    }
}
EOF
$t->start_nginx_ok;

my $id = $t->create_user(entra_user(userName => 'kill@example.com'))->{json}{id} // 'none';
is_scim_json($t->get("Users/$id"), 200, 'baseline GET');

sub kill_module_connections {
    # SKIPME yes (the default): our own connection survives
    my $n = $t->redis_cmd('CLIENT', 'KILL', 'TYPE', 'normal');
    delete $t->{redis_conn};
    return $n;
}

# ------------------------------------- killed right after it was made, again

# Each round kills the connection made (at once) after the previous kill,
# a few ms after it was made, and asks again at once.
my (@st, $killed);
for my $round (1 .. 20) {
    $killed += kill_module_connections() // 0;
    my $r = $t->get("Users/$id", keepalive => 0);
    push @st, $r->{status};
}
ok($killed >= 20, "the module's connection was killed each round ($killed)");
is(join(',', grep { $_ != 200 } @st), '',
   'a request just after each kill is served (' . join(',', @st) . ')');

# the same with several requests at once after each kill
my @bad;
for my $round (1 .. 5) {
    kill_module_connections();
    my $par = $t->parallel(4, sub {
        my $r = $t->get("Users/$id", keepalive => 0);
        return $r->{status};
    });
    push @bad, grep { ($_ // 0) != 200 } @$par;
}
is(join(',', @bad), '', '4 parallel requests just after each kill: all served');

# a request on a kept-alive client connection, killed between two requests
my @ka;
for (1 .. 10) {
    push @ka, $t->get("Users/$id")->{status};
    kill_module_connections();
}
push @ka, $t->get("Users/$id")->{status};
is(join(',', grep { $_ != 200 } @ka), '', 'keep-alive client: every request served');

# ------------------------------- requests wait while a connection is made

# A stopped Redis accepts connections (the kernel does) but answers
# nothing.  The request in flight times out (scim_redis_timeout 2s), the
# module makes a new connection at once and its handshake waits.
sub stop_and_drop {
    $t->redis_signal('STOP');
    my $r = $t->get("Users/$id", keepalive => 0);
    is_scim_error($r, 503, undef, 'stopped Redis: the request in flight -> 503');
    ok($r->{elapsed} >= 1.5 && $r->{elapsed} < 2 + 2,
       sprintf('... after scim_redis_timeout (%.2fs)', $r->{elapsed}));
}

stop_and_drop();
my $pid = fork;
if (defined $pid && $pid == 0) {
    sleep 0.5;
    kill 'CONT', $t->redis_pid;
    POSIX::_exit(0);
}
my $t0 = time;
my $par = $t->parallel(4, sub {
    my $r = $t->get("Users/$id", keepalive => 0, timeout => 15);
    return [ $r->{status}, $r->{elapsed}, $r->{json}{id} // '' ];
});
waitpid($pid, 0) if $pid;
$t->redis_signal('CONT');
ok(!grep({ !$_ || $_->[0] != 200 || $_->[2] ne $id } @$par),
   'requests sent while the connection is being made wait and succeed')
    or diag explain $par;
ok(!grep({ $_ && $_->[1] >= $CONNECT } @$par),
   "... each within scim_redis_connect_timeout (${CONNECT}s)")
    or diag explain $par;

# the same, but Redis stays stopped: 503 with Retry-After after the
# connect timeout, not before and not much later
stop_and_drop();
my $r = $t->get("Users/$id", keepalive => 0, timeout => 15);
is_scim_error($r, 503, undef, 'connection not made in time -> 503 SCIM error');
is($r->{headers}{'retry-after'}, '1', '... with Retry-After: 1');
ok($r->{elapsed} >= 0.5 && $r->{elapsed} < $CONNECT + 2,
   sprintf('... after waiting for the attempt (%.2fs, connect timeout %ss)',
           $r->{elapsed}, $CONNECT));
$t->redis_signal('CONT');
my $ok = 0;
for (1 .. 100) {
    last if $t->get("Users/$id", keepalive => 0)->{status} == 200 && ++$ok >= 5;
    sleep 0.05;
}
is($ok, 5, 'serving again after SIGCONT');

# ------------------------------------------ clients that go away meanwhile

# Requests queued behind a connection being made, whose clients close
# their connections; then Redis answers.  Nothing may crash or leak.
stop_and_drop();
my $mark = $t->log_mark;
my @socks;
for my $i (1 .. 20) {
    my $s = $t->connect_nginx;
    next unless $s;
    my $req = $t->build_request('POST', 'Users',
        body => entra_user(userName => "gone$i\@example.com"));
    $t->send_bytes($s, $req);
    push @socks, $s;
}
sleep 0.3;
close $_ for @socks;
sleep 0.2;
$t->redis_signal('CONT');
$ok = 0;
for (1 .. 100) {
    last if $t->get("Users/$id", keepalive => 0)->{status} == 200 && ++$ok >= 5;
    sleep 0.05;
}
is($ok, 5, 'clients gone while waiting: serving again');
# their POSTs were sent when the connection was made (nobody cancelled
# them): each one is stored once or not at all
my $list = $t->list(filter => 'userName sw "gone"', count => 100);
is($list->{status}, 200, 'list of the abandoned POSTs');
my %seen;
$seen{$_->{userName}}++ for @{$list->{json}{Resources} // []};
ok(!grep({ $_ != 1 } values %seen), 'each abandoned POST stored at most once');
$t->no_alerts_since($mark, 'no alert after abandoned waiting requests');

$t->finish;

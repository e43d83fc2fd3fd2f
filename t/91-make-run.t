#!/usr/bin/perl

# `make run` (conf-examples/quickstart.sh): PORT= picks the port, a port
# that is taken or not a number fails at once with a clear message, and
# on a free port the quickstart tenant answers with the printed token.
#
# The script runs with SCIM_RUN_DIR in a temp dir.  It uses a Redis on
# 127.0.0.1:6379 or starts one there (as `make run` does); the last part
# is skipped when 6379 holds something that is not Redis.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG setsid);
use Time::HiRes qw(sleep time);

my $REPO = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $SCRIPT = "$REPO/conf-examples/quickstart.sh";
my $MODULE = "$REPO/build/ngx_http_scim_module.so";

plan skip_all => "no module at $MODULE (run make)" unless -f $MODULE;
plan skip_all => 'no nginx in PATH'
    unless grep { -x "$_/nginx" } split /:/, "$ENV{PATH}:/usr/sbin";

$SIG{ALRM} = sub { BAIL_OUT('t/91-make-run.t: watchdog timeout') };
alarm($ENV{SCIM_TEST_TIMEOUT} // 120);

$ENV{PATH} .= ':/usr/sbin';
my $dir = tempdir('scim-run-XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{SCIM_RUN_DIR} = $dir;

sub run_script {
    my ($port) = @_;
    my $out = `PORT='$port' bash '$SCRIPT' 2>&1 </dev/null`;
    return ($? >> 8, $out);
}

# ---- a taken port: exit 1 at once, naming the port and PORT=

my $busy = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
    or die "listen: $!";
my $bport = $busy->sockport;

my $t0 = time;
my ($rc, $out) = run_script($bport);
is($rc, 1, "a taken port ($bport): exit 1");
like($out, qr/127\.0\.0\.1:$bport is already in use/, '... says which port is in use');
like($out, qr/make run PORT=/, '... and how to pick another');
unlike($out, qr/is running/, '... and does not claim to run');
ok(time - $t0 < 10, '... at once');
close $busy;

for my $bad ('abc', '80x', '0', '70000') {
    ($rc, $out) = run_script($bad);
    is($rc, 2, "PORT=$bad: exit 2");
    like($out, qr/not a port number/, "... PORT=$bad is not a port number");
}

# ---- a free port: the quickstart tenant answers there

sub free_port {
    my $s = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1)
        or die "listen: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub redis_on_6379 {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:6379', Timeout => 2)
        or return undef;            # free: the script starts one
    print $s "PING\r\n";
    my $line = <$s> // '';
    return $line =~ /^\+PONG/ ? 1 : 0;
}

sub http_get {
    my ($port, $path, $token) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Timeout => 5)
        or return undef;
    print $s "GET $path HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        . ($token ? "Authorization: Bearer $token\r\n" : '') . "\r\n";
    local $/;
    return <$s>;
}

SKIP: {
    my $redis = redis_on_6379();
    skip 'something that is not Redis listens on 127.0.0.1:6379', 5
        if defined $redis && !$redis;
    skip 'no redis-server in PATH', 5
        if !defined $redis && !grep { -x "$_/redis-server" } split /:/, $ENV{PATH};

    my $port = free_port();
    my $log = "$dir/run.out";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        setsid();
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $log;
        open STDERR, '>&', \*STDOUT;
        $ENV{PORT} = $port;
        exec 'bash', $SCRIPT or exit 127;
    }

    my $up;
    for (1 .. 200) {
        my $r = http_get($port, '/healthz');
        if (defined $r && $r =~ m{^HTTP/1\.\d 200}) { $up = 1; last }
        last if waitpid($pid, WNOHANG) == $pid;
        sleep 0.1;
    }
    ok($up, "make run PORT=$port: nginx answers on $port")
        or diag(do { local (@ARGV, $/) = $log; <> });

    my $text = do { local (@ARGV, $/) = $log; <> } // '';
    like($text, qr{Tenant URL:\s+http://127\.0\.0\.1:$port/scim/v2},
         '... and prints its Tenant URL with that port');
    my ($token) = $text =~ /Secret Token:\s+(\S+)/;

    my $r = http_get($port,
        '/scim/v2/Users?filter=userName%20eq%20%22nobody-91%22', $token) // '';
    like($r, qr{^HTTP/1\.\d 200}, '... the printed token opens the tenant');
    like($r, qr/"totalResults"\s*:\s*0/, '... a filter on nobody: empty list');

    # Ctrl-C's way out: the whole group (bash, nginx, the Redis it
    # started) ends; wait for every one of them, while the temp dir that
    # Redis saves into still exists
    kill 'TERM', -$pid;
    my $gone;
    for (1 .. 150) {
        waitpid($pid, WNOHANG);
        if (!kill(0, -$pid)) { $gone = 1; last }
        sleep 0.1;
    }
    ok($gone, '... and SIGTERM ends nginx and the Redis it started');
    kill 'KILL', -$pid unless $gone;
    waitpid($pid, 0);
}

done_testing();

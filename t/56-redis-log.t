#!/usr/bin/perl

# Logging of Redis failures (issue 7, defect 5): a handshake that keeps
# failing (a wrong scim_redis_password, LOADING while Redis loads its
# data) is logged once per worker when it starts and when its cause
# changes, then summarized once a minute with a count, and the recovery
# is logged once; meanwhile every request gets a fast 503 with
# Retry-After.  This file waits for the 60 s summary: it takes about 70 s.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $PW = 'right-' . int(rand(1e9));
my $BADPW = 'wrong-' . int(rand(1e9));
my $t = ScimTest->new(workers => 2, redis_unix => 1, redis_password => $PW,
                      redis_opts => ['--enable-debug-command', 'local'],
                      timeout => 300,
                      no_cluster => 'DEBUG commands, logs of one redis-server');

# the good location over TCP, the one with the wrong password over the
# unix socket: their lines in error.log tell them apart
$t->write_config(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;

    location /scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_redis_password $PW;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }

    location /bad/scim/v2/ {
        scim;
        scim_redis unix:%%REDIS_SOCK%%;
        scim_redis_password $BADPW;
        scim_tenant bad;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }
}
EOF
my $T0 = time;
$t->start_nginx_ok;
my @workers = $t->worker_pids;
is(scalar @workers, 2, 'two workers');

my $BAD = 'scim redis unix:';
my $GOOD = 'scim redis 127.0.0.1:';

# error.log lines since $mark that contain $what: [ [pid, level, text] ]
sub lines {
    my ($mark, $what) = @_;
    my @l;
    for (split /\n/, $t->log_since($mark)) {
        next unless index($_, $what) >= 0;
        push @l, [ $2, $1, $3 ] if /\[(\w+)\] (\d+)#\d+: (?:\*\d+ )?(.*)$/;
    }
    return @l;
}

sub by_pid {
    my %h;
    push @{ $h{$_->[0]} }, $_ for @_;
    return \%h;
}

sub show { join("\n", map { "$_->[0] [$_->[1]] $_->[2]" } @_) }

# no line logged twice by one worker (the text after the address)
sub no_repeats {
    my ($name, @l) = @_;
    my %seen;
    my @dup = grep { $seen{"$_->[0] $_->[2]"}++ } @l;
    ok(!@dup, $name) or diag show(@l);
}

# ----------------------------------------------------- a wrong password

my (@st, @slow, @noretry);
for my $i (1 .. 100) {
    my $r = $t->get("/bad/scim/v2/Users?count=1", keepalive => 0);
    push @st, $r->{status};
    push @slow, sprintf('%.2f', $r->{elapsed}) if $r->{elapsed} >= 1.5;
    push @noretry, $i unless ($r->{headers}{'retry-after'} // '') eq '1';
    sleep 0.02;
}
is(join(',', grep { $_ != 503 } @st), '', 'wrong password: 100 requests, all 503');
is("@slow", '', '... each answered fast');
is("@noretry", '', '... each with Retry-After: 1');
is_scim_json($t->get('Users?count=1'), 200, 'the other location is served meanwhile');

my @bad = lines(0, $BAD);
my $bp = by_pid(@bad);
is(join(',', sort map { scalar @{ $bp->{$_} // [] } } @workers), '1,1',
   'wrong password: logged once by each worker') or diag show(@bad);
ok(!grep({ $_->[1] ne 'error' || $_->[2] !~ /AUTH failed: WRONGPASS/ } @bad),
   '... at error level, saying AUTH failed: WRONGPASS') or diag show(@bad);
like($bad[0][2] // '', qr/retrying.*summary every 60 s/, '... and that a summary follows');
unlike($t->error_log, qr/\Q$BADPW\E|\Q$PW\E/, 'no password in error.log');

# ------------------------------------------ LOADING: Redis loading its data

# 2,000,000 keys in db 9 take a second or more to load; saved first
# (SAVE may take longer than stop_redis waits on a loaded machine)
my ($pop, $perr) = $t->redis_cmd({ db => 9, timeout => 120 }, 'DEBUG', 'POPULATE', 2000000);
is($pop, 'OK', 'a dataset that takes a while to load') or diag $perr;
($pop, $perr) = $t->redis_cmd({ timeout => 120 }, 'SAVE');
is($pop, 'OK', '... saved') or diag $perr;

# runs $code while a child sends requests to the good location all along;
# returns { status => count }, the last one as "<status> (last)"
my $RUN = 0;
sub with_traffic {
    my ($code) = @_;
    my $file = $t->dir . '/statuses-' . ++$RUN;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my %n;
        my $end = time + 60;
        while (time < $end && !-e "$file.stop") {
            $n{ $t->get('Users?count=1', keepalive => 0, timeout => 5)->{status} }++;
            sleep 0.02;
        }
        $n{ $t->get('Users?count=1', keepalive => 0)->{status} . ' (last)' }++;
        open my $fh, '>', $file or POSIX::_exit(1);
        print $fh json_encode(\%n);
        close $fh;
        POSIX::_exit(0);
    }
    $code->();
    sleep 1.5;                          # every worker reconnects
    $t->write_file("statuses-$RUN.stop", '');
    waitpid($pid, 0);
    return json_decode($t->read_file("statuses-$RUN") // '') // {};
}

my $mark = $t->log_mark;
my $n = with_traffic(sub {
    ok($t->stop_redis, 'redis stopped');
    ok($t->start_redis, 'redis started again, loaded (PING answers PONG)');
});
ok(!grep({ !/^(?:200|503)/ } keys %$n), 'during the restart: only 200 or 503')
    or diag explain $n;
ok($n->{'200 (last)'}, 'and 200 afterwards') or diag explain $n;

my @good = lines($mark, $GOOD);
my @loading = grep { $_->[2] =~ /LOADING/ } @good;
ok(@loading >= 1, 'LOADING was met by a handshake (' . scalar(@loading) . ' line(s))')
    or diag show(@good);
my $lp = by_pid(@loading);
ok(!grep({ @{ $lp->{$_} } > 1 } keys %$lp), '... and logged at most once by each worker')
    or diag show(@good);
ok(!grep({ $_->[1] ne 'error' } @loading), '... at error level');
no_repeats('restart: no line repeated by a worker', @good);
my $gp = by_pid(grep { $_->[2] =~ /connected again/ } @good);
ok(!grep({ @{ $gp->{$_} // [] } != 1 } @workers),
   'the recovery logged once by each worker') or diag show(@good);
my $ep = by_pid(grep { $_->[1] eq 'error' } @good);
ok(!grep({ @{ $ep->{$_} } > 5 } keys %$ep),
   'restart: at most 5 error lines a worker (the first, 4 changes of cause)')
    or diag show(@good);

# the unix socket went away and came back meanwhile: changes of cause
@bad = lines($mark, $BAD);
no_repeats('wrong password during the restart: no line repeated', @bad);
ok(@bad <= 2 * 4, 'wrong password during the restart: a few lines (' . scalar(@bad) . ')')
    or diag show(@bad);

# LOADING answered to commands on ready connections: DEBUG RELOAD saves
# and loads the data again while the connections stay
$mark = $t->log_mark;
$n = with_traffic(sub {
    my ($r, $e) = $t->redis_cmd({ timeout => 120 }, 'DEBUG', 'RELOAD');
    is($r, 'OK', 'DEBUG RELOAD') or diag $e;
});
ok(!grep({ !/^(?:200|503)/ } keys %$n), 'during DEBUG RELOAD: only 200 or 503')
    or diag explain $n;
ok($n->{'200 (last)'}, 'and 200 afterwards') or diag explain $n;
@good = lines($mark, $GOOD);
@loading = grep { $_->[2] =~ /LOADING/ } @good;
ok(@loading >= 1, 'LOADING was met (' . scalar(@loading) . ' line(s))')
    or diag show(@good);
$lp = by_pid(@loading);
ok(!grep({ @{ $lp->{$_} } > 2 } keys %$lp),
   '... and logged at most twice by each worker (a reply, a handshake)')
    or diag show(@good);
no_repeats('DEBUG RELOAD: no line repeated by a worker', @good);
ok(!grep({ $_->[2] =~ /scim redis error/ } @good), '... none for a request');
$gp = by_pid(grep { $_->[2] =~ /connected again/ } @good);
ok(!grep({ @{ $gp->{$_} // [] } > 1 } @workers),
   '... the recovery logged at most once by each worker') or diag show(@good);

$t->redis_cmd({ db => 9 }, 'FLUSHDB', 'ASYNC');

# ----------------------------------------------------- the summary, later

# (a worker's summary comes 60 s after its first failure; on a loaded
# machine its timer may fire late, so waiting goes on, up to 100 s, until
# each worker has logged one)
$mark = $t->log_mark;
my $summarized = sub {
    scalar keys %{ by_pid(grep { $_->[2] =~ /still failing/ } lines(0, $BAD)) };
};
while (time < $T0 + 64 || ($summarized->() < @workers && time < $T0 + 100)) {
    $t->get("/bad/scim/v2/Users?count=1", keepalive => 0);
    sleep 0.5;
}
# one a minute since the first failure (when the file started)
my $minutes = int((time - $T0) / 60);
my @sum = grep { $_->[2] =~ /still failing/ } lines(0, $BAD);
$bp = by_pid(@sum);
ok(!grep({ my $k = @{ $bp->{$_} // [] }; $k < 1 || $k > $minutes } @workers),
   "after a minute: one summary by each worker (at most $minutes)") or diag show(@sum);
@bad = grep { $_->[2] !~ /still failing/ } lines($mark, $BAD);
is(scalar(@bad), 0, '... and nothing else meanwhile') or diag show(@bad);
ok(!grep({ !(/still failing: (\d+) failures since \d{4}\/\d\d\/\d\d [\d:]+, the last: AUTH failed: WRONGPASS/
             && $1 >= 20) } map { $_->[2] } @sum),
   '... counting the failures (at least 20), since when, and the last cause')
    or diag show(@sum);

# ------------------------------------------------------ password fixed

$mark = $t->log_mark;
is($t->redis_cmd('ACL', 'SETUSER', 'default', ">$BADPW"), 'OK',
   'the password of the bad location is now valid too');
my $ok = 0;
my $t1 = time;
while (time - $t1 < 10 && $ok < 10) {
    my $r = $t->get("/bad/scim/v2/Users?count=1", keepalive => 0);
    $ok = $r->{status} == 200 ? $ok + 1 : 0;
    sleep 0.05 unless $ok;
}
is($ok, 10, sprintf('the bad location serves (%.1fs)', time - $t1));
# each worker reconnects within its backoff (1 s + 25 %) at the latest
my @rec;
for (1 .. 50) {
    @rec = grep { $_->[2] =~ /connected again/ } lines($mark, $BAD);
    last if @rec >= 2;
    sleep 0.1;
}
$bp = by_pid(@rec);
ok(!grep({ @{ $bp->{$_} // [] } != 1 } @workers), 'the recovery logged once by each worker')
    or diag show(lines($mark, $BAD));
ok(!grep({ $_->[2] !~ /connected again, \d+ ms after the first failure \(\d+ failures\)/ } @rec),
   '... with the duration and the count') or diag show(@rec);
for (1 .. 50) { $t->get("/bad/scim/v2/Users?count=1", keepalive => 0) }
@bad = lines($mark, $BAD);
is(scalar(@bad), scalar(@rec), 'then nothing more') or diag show(@bad);

$t->finish;

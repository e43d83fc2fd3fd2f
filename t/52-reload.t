#!/usr/bin/perl

# nginx reload (SIGHUP, as `nginx -s reload` sends) under a write load:
# no acknowledged POST lost; service continues; old workers exit and
# their Redis connections close (no leak across reloads); a reload picks
# up a changed token file.

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
my $CONNS = 1;

$t->write_config($t->standard_conf(extra => "        scim_redis_connections $CONNS;"));
$t->start_nginx_ok;

for (1 .. 20) { $t->get('Users?' . qs(filter => 'userName eq "warmup"'), keepalive => 0) }
my $nc = $t->redis_client_count;
ok($nc >= 1 && $nc <= 2 * $CONNS, "redis sees $nc connection(s) from 2 workers x $CONNS");

# ------------------------------------------------- reload under load

my $t_start = time;
my $DUR = 6;
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    # the reloader: three reloads while the clients write
    my @r;
    for my $at (1.5, 3, 4.5) {
        sleep($at - (time - $t_start)) if $at > time - $t_start;
        push @r, [ time, kill('HUP', $t->nginx_pid) ? 1 : 0 ];
    }
    open my $fh, '>', $t->dir . '/reloads.json';
    print $fh json_encode(\@r);
    close $fh;
    POSIX::_exit(0);
}

my $out = $t->parallel(4, sub {
    my $i = shift;
    my @res;
    my $k = 0;
    while (time - $t_start < $DUR) {
        $k++;
        my $un = "load$i-$k\@example.com";
        my $r = $t->post('Users', entra_user(userName => $un), timeout => 10);
        push @res, [ $r->{status}, $r->{json}{id} // '', $un, time ];
        sleep 0.002;
    }
    return \@res;
}, timeout => 60);
waitpid($pid, 0);
my $reloads = json_decode($t->read_file('reloads.json') // '[]') // [];
is(scalar(grep { $_->[1] } @$reloads), 3, 'three SIGHUPs sent during the load');

my @all = map { @{ $_ // [] } } @$out;
my %c;
$c{ $_->[0] }++ for @all;
diag('POSTs during reloads: ' . join(', ', map { "$_ x $c{$_}" } sort keys %c));
my @acked = grep { $_->[0] == 201 } @all;
ok(@acked > 20, scalar(@acked) . ' POSTs acknowledged with 201');
ok(!grep({ $_->[0] != 201 && $_->[0] != 503 && $_->[0] != 599 } @all),
   'no answer other than 201 (or 503 / a dropped connection)');
my $last_reload = @$reloads ? $reloads->[-1][0] : time;
ok(scalar(grep { $_->[3] > $last_reload + 0.5 } @acked) > 0, 'POSTs succeed after the last reload');
is($c{503} // 0, 0, 'no 503 during reloads (new workers are ready before they take requests)');

# every acknowledged write is there
my @lost;
for my $ak (@acked) {
    my $r = $t->get("Users/$ak->[1]");
    push @lost, "$ak->[2] ($ak->[1]): $r->{status}"
        unless $r->{status} == 200 && ($r->{json}{userName} // '') eq $ak->[2];
}
is_deeply(\@lost, [], 'every POST that got 201 is readable after the reloads');
my $total = $t->list(count => 0)->{json}{totalResults} // -1;
ok($total >= @acked && $total <= @all, "totalResults $total between acked (" . scalar(@acked)
   . ") and attempted (" . scalar(@all) . ')');

# old workers gone, their Redis connections closed
my $deadline = time + 15;
my @w;
while (time < $deadline) {
    @w = $t->worker_pids;
    last if @w == 2;
    sleep 0.1;
}
is(scalar @w, 2, 'old workers exited after the reloads');
for (1 .. 20) { $t->get('Users?' . qs(filter => 'userName eq "warmup"'), keepalive => 0) }
$deadline = time + 10;
while (time < $deadline) {
    $nc = $t->redis_client_count;
    last if $nc <= 2 * $CONNS;
    sleep 0.2;
}
ok($nc >= 1 && $nc <= 2 * $CONNS, "after reloads redis sees $nc connection(s) (no leak)");

# ------------------------------------------- rapid reloads

for (1 .. 5) { kill 'HUP', $t->nginx_pid; sleep 0.1 }
ok($t->reload(wait_old => 1), 'after 5 rapid SIGHUPs a last reload settles');
is_scim_json($t->post('Users', entra_user()), 201, 'serving after rapid reloads');
$deadline = time + 10;
while (time < $deadline) {
    $nc = $t->redis_client_count;
    last if $nc <= 2 * $CONNS;
    sleep 0.2;
}
ok($nc <= 2 * $CONNS, "after rapid reloads redis sees $nc connection(s) (no leak)");

# ------------------------------------------- extension schema removed

my $ext = 'urn:ietf:params:scim:schemas:extension:Reload:2.0:User';
$t->write_file('ext.json', ext_schema($ext, 'ReloadUser', 'badge'));
$t->write_config($t->standard_conf(extra => "        scim_redis_connections $CONNS;\n"
                                            . "        scim_schema_extension %%DIR%%/ext.json;"));
ok($t->reload(wait_old => 1), 'reload adding an extension schema');
my $r = $t->post('Users', entra_user(userName => 'badge@example.com', $ext => { badge => 'B1' }));
is_scim_json($r, 201, 'POST with the new extension');
is(scim_get_path($r->{json}, "$ext:badge"), 'B1', '... stored');
my $bid = $r->{json}{id} // 'none';
$t->write_config($t->standard_conf(extra => "        scim_redis_connections $CONNS;"));
ok($t->reload(wait_old => 1), 'reload removing the extension schema');
$r = $t->get("Users/$bid");
is_scim_json($r, 200, 'a user holding data of a removed extension is still readable');
is_scim_json($t->patch_ops($bid, { op => 'Replace', path => 'title', value => 'x' }), 200,
             '... and patchable');

# ------------------------------------------- token file re-read

my $old = $t->token;
my $new = sprintf('rotated-%012d', int(rand(1e12)));   # always 20 characters: the module refuses tokens under 16
$t->write_file('tokens', "$new\n");
ok($t->reload(wait_old => 1, cmd => 1), '`nginx -s reload` after rotating the token file');
is_scim_error($t->get('Users?count=0', token => $old), 401, undef, 'old token refused after reload');
is_list_response($t->get('Users?count=0', token => $new), undef, 0, 'new token accepted after reload');
$t->{token} = $new;

$t->finish;

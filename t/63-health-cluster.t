#!/usr/bin/perl

# scim_health on a Redis Cluster (issue 12), always on a local cluster
# of its own (3 primaries + 3 replicas, t/lib/ScimCluster.pm): a PING to
# every primary of the slot map; one primary paused (SIGSTOP) -> 503
# naming it (the others ok), resumed -> 200 again.

use strict;
use warnings;

use lib 't/lib';
use ScimTest;
use ScimCluster;
use Test::More;
use Time::HiRes qw(time sleep);

plan(skip_all => 'redis-server or redis-cli not found')
    unless ScimCluster->available;

my $t = ScimTest->new(workers => 2, cluster => 1, timeout => 300);
my $c = $t->cluster;
my @primaries = $c->primaries;
is(scalar @primaries, 3, 'a cluster of 3 primaries');

$t->write_config(<<'EOF2');
scim_redis %%REDIS%%;
scim_redis_connect_timeout 1s;
scim_redis_timeout 3s;

server {
    listen 127.0.0.1:%%PORT%%;

    location /scim/v2/ {
        scim;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }

    location = /health {
        scim_health;
        allow 127.0.0.1;
        deny all;
    }
}
EOF2
$t->start_nginx_ok;

sub health {
    return $t->request('GET', '/health', token => undef, keepalive => 0,
                       timeout => 30);
}

sub addrs {
    my ($r, $ok) = @_;
    return sort map { $_->{addr} }
           grep { !defined $ok || (is_jtrue($_->{ok}) ? 1 : 0) == $ok }
           @{$r->{json}{redis} // []};
}

my @want = sort map { "127.0.0.1:$_" } @primaries;

# each worker learns the slot map at start: wait until both know it
my ($r, $all);
for (1 .. 80) {
    my @r = map { health() } 1 .. 4;
    if (!grep { $_->{status} != 200 || join(' ', addrs($_)) ne "@want" } @r)
    {
        $all = 1;
        $r = $r[0];
        last;
    }
    $r = $r[0];
    sleep 0.25;
}
ok($all, '200, a PING to each of the 3 primaries (every worker)')
    or diag explain $r;
is_deeply([addrs($r, 1)], \@want, 'all three ok');

my $victim = $primaries[1];
ok($c->signal($victim, 'STOP'), "primary $victim paused (SIGSTOP)");
my $t0 = time;
$r = health();
my $took = time - $t0;
$c->signal($victim, 'CONT');

is($r->{status}, 503, 'one primary paused: 503') or diag explain $r;
is_deeply([addrs($r, 0)], ["127.0.0.1:$victim"], 'naming it, and only it')
    or diag explain $r;
my @up = addrs($r, 1);
is(scalar @up, 2, 'the two others ok');
my ($bad) = grep { $_->{addr} eq "127.0.0.1:$victim" }
            @{$r->{json}{redis} // []};
like($bad->{error} // '', qr/no answer/, 'its error: no answer');
ok($took < 1 + 4, sprintf('within the connect timeout bound (%.2f s)',
                          $took));

my $back;
for (1 .. 120) {
    $r = health();
    if ($r->{status} == 200) { $back = 1; last }
    sleep 0.25;
}
ok($back, '200 again after SIGCONT') or diag explain $r;
$c->wait_ok(20);

$t->{allow_log} = qr/scim redis/;
$t->finish;

#!/usr/bin/perl

# scim_health with scim_redis_sentinel (issue 12): the PING goes to the
# primary the worker uses now, named by its address with "sentinel": the
# master name; after a failover (SENTINEL FAILOVER) the health answer
# names the new primary and is 200 again.  One primary, one replica,
# three Sentinels (t/lib/ScimSentinel.pm).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;
use ScimSentinel;

my $t = ScimTest->new(workers => 2, redis => 0, timeout => 300);
my $s = ScimSentinel->new($t, replicas => 1, sentinels => 3);
my $SENT = $s->directive;
my $NAME = $s->name;

$t->write_config(<<"EOF2");
scim_redis_sentinel $SENT;
scim_redis_connect_timeout 2s;
scim_redis_timeout 2s;

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

# every worker's answer names $port (several requests: both workers)
sub names_primary {
    my ($port, $secs) = @_;
    my $r;
    my $deadline = time + $secs;
    while (time < $deadline) {
        my @r = map { health() } 1 .. 4;
        $r = $r[0];
        return (1, $r) unless grep {
            my $p = $_->{json}{redis} // [];
            $_->{status} != 200 || @$p != 1
            || ($p->[0]{addr} // '') ne "127.0.0.1:$port"
            || ($p->[0]{sentinel} // '') ne $NAME
        } @r;
        sleep 0.25;
    }
    return (0, $r);
}

my $old = $s->primary_port;
my ($ok, $r) = names_primary($old, 20);
ok($ok, "200, naming the primary 127.0.0.1:$old and the master $NAME")
    or diag explain $r;

is($s->failover, 'OK', 'SENTINEL FAILOVER');
my $new = $s->wait_new_primary($old, 60);
ok($new, 'a new primary: ' . ($new // 'none'));

# the workers learn it from the Sentinels (+switch-master), or when the
# old primary, now a replica, says READONLY to a write
# (each a new userName, so that every one is a real write; a 503 or
# READONLY answer is what nudges a worker, hence quiet)
$t->create_user(entra_user(userName => "after$_\@example.com"), quiet => 1) for 1 .. 4;
($ok, $r) = names_primary($new // 0, 40);
ok($ok, "after the failover: 200, naming the new primary 127.0.0.1:"
        . ($new // 'none')) or diag explain $r;

$t->{allow_log} = qr/scim redis|READONLY|replica/;
$t->finish;
$s->finish;

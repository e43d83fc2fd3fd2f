#!/usr/bin/perl

# scim_health (issue 12): 200 when the worker reaches every Redis it
# serves (a PING round trip), 503 otherwise, as JSON with
# Cache-Control: no-store and no token; bounded by the connect timeout
# when Redis does not answer (SIGSTOP), refused at once when it is down,
# 200 again after; 405 JSON for another method; allow/deny in front of
# it; two Redis stores in the configuration: both are pinged.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2, timeout => 300,
    no_cluster => 'stops and pauses the one redis-server');
my $CONNECT = 2;            # scim_redis_connect_timeout, seconds

$t->write_config(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;

    location /scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout ${CONNECT}s;
        scim_redis_timeout 3s;
    }

    # the same Redis, another database: a second store
    location /db1/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_redis_db 1;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout ${CONNECT}s;
        scim_redis_timeout 3s;
    }

    location = /health {
        scim_health;
        allow 127.0.0.1;
        deny all;
    }

    location = /health-denied {
        scim_health;
        deny all;
    }
}
EOF
$t->start_nginx_ok;

my $ADDR = '127.0.0.1:' . $t->redis_port;

sub health {
    my (%o) = @_;
    return $t->request($o{method} // 'GET', $o{path} // '/health',
                       token => undef, keepalive => 0, timeout => 30,
                       %o);
}

sub ok_health {
    my ($r, $name) = @_;
    my $j = $r->{json};
    my $good = $r->{status} == 200 && ref $j eq 'HASH'
        && ($j->{status} // '') eq 'ok' && ref $j->{redis} eq 'ARRAY'
        && @{$j->{redis}} == 2
        && !grep { !is_jtrue($_->{ok}) } @{$j->{redis}};
    ok($good, $name) or diag explain $r;
}

# ------------------------------------------------------------ up

my $r = health();
ok_health($r, 'Redis up: 200, status ok, both stores');
like($r->{headers}{'content-type'} // '', qr{^application/json},
     'Content-Type: application/json');
is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
is(scalar(grep { ($_->{addr} // '') eq $ADDR } @{$r->{json}{redis} // []}),
   2, "each store names its address ($ADDR)");
ok(!grep({ !defined $_->{ms} || $_->{ms} !~ /^\d+(\.\d+)?$/ }
         @{$r->{json}{redis} // []}), 'each has its round trip in ms');
ok(!grep({ exists $_->{error} } @{$r->{json}{redis} // []}),
   'no error when up');

# every worker answers the same (several connections)
my @st = map { health()->{status} } 1 .. 8;
is_deeply(\@st, [(200) x 8], 'every request 200 (both workers)');

$r = health(method => 'HEAD');
is($r->{status}, 200, 'HEAD: 200');
is($r->{content} // '', '', 'HEAD: no body');

for my $m (qw(POST PUT DELETE PATCH)) {
    $r = health(method => $m, body => '{}', ctype => 'application/json');
    is($r->{status}, 405, "$m: 405");
    like($r->{headers}{'content-type'} // '', qr{^application/json},
         "$m: JSON") or diag explain $r;
    ok(ref $r->{json} eq 'HASH' && defined $r->{json}{error}, "$m: an error");
    like($r->{headers}{allow} // '', qr/GET, HEAD/, "$m: Allow");
}

$r = health(path => '/health-denied');
is($r->{status}, 403, 'deny all in front of it: 403');

# a request with a bad token is not looked at
$r = health(token => 'not-a-token');
is($r->{status}, 200, 'no token needed (a wrong one is ignored)');

# ---------------------------------------------------- Redis paused

ok($t->redis_signal('STOP'), 'redis-server paused (SIGSTOP)');
my $t0 = time;
$r = health();
my $took = time - $t0;
is($r->{status}, 503, 'paused: 503') or diag explain $r;
is($r->{json}{status}, 'unavailable', 'status unavailable');
ok(!grep({ is_jtrue($_->{ok}) } @{$r->{json}{redis} // []}),
   'every store down');
like($r->{json}{redis}[0]{error} // '', qr/no answer/,
     'the error says there was no answer');
# (sooner if a connection being made meanwhile times out first)
ok($took < $CONNECT + 4,
   sprintf('answered within the connect timeout bound (%.2f s, bound '
           . '%d s)', $took, $CONNECT));
is($r->{headers}{'cache-control'}, 'no-store', '503: no-store too');

ok($t->redis_signal('CONT'), 'redis-server resumed');

my $back;
for (1 .. 60) {
    $r = health();
    if ($r->{status} == 200) { $back = 1; last }
    sleep 0.25;
}
ok($back, '200 again after SIGCONT') or diag explain $r;
@st = map { health()->{status} } 1 .. 6;
is_deeply(\@st, [(200) x 6], 'and from every worker');

# ----------------------------------------------------- Redis stopped

$t->stop_redis;
$t0 = time;
$r = health();
$took = time - $t0;
is($r->{status}, 503, 'stopped: 503') or diag explain $r;
ok(length($r->{json}{redis}[0]{error} // '') > 0,
   "an error: " . ($r->{json}{redis}[0]{error} // ''));
is($r->{json}{redis}[0]{addr}, $ADDR, 'naming the address');
ok($took < $CONNECT + 4, sprintf('within the bound (%.2f s)', $took));

ok($t->start_redis, 'redis-server started again');
$back = 0;
for (1 .. 80) {
    $r = health();
    if ($r->{status} == 200) { $back = 1; last }
    sleep 0.25;
}
ok($back, '200 again once Redis is back') or diag explain $r;
ok_health(health(), 'both stores ok');

# SCIM requests still work (the probe left nothing behind)
$r = $t->create_user(entra_user(userName => 'health@example.com'));
is($r->{status}, 201, 'a SCIM create after all this');

$t->{allow_log} = qr/scim redis|connection refused|Connection refused/;
$t->finish;

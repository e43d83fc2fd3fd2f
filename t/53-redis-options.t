#!/usr/bin/perl

# scim_redis_password (AUTH), scim_redis_db (SELECT), scim_redis
# unix:/path, scim_redis_connections; a missing or wrong password, or an
# address that never answers (scim_redis_connect_timeout) -> 503 SCIM
# error, fast; the password never in a log.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $PW = 'sekret-' . int(rand(1e9));
my $t = ScimTest->new(workers => 2, redis_unix => 1, redis_password => $PW,
    no_cluster => 'unix socket, db and password of one redis-server');

$t->write_config(<<"EOF");
server {
    listen 127.0.0.1:%%PORT%%;

    location /scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_redis_password $PW;
        scim_redis_db 3;
        scim_redis_connections 3;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_timeout 2s;
    }

    location /unix/scim/v2/ {
        scim;
        scim_redis unix:%%REDIS_SOCK%%;
        scim_redis_password $PW;
        scim_tenant unixt;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_timeout 2s;
    }

    location /nopw/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant nopw;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }

    location /blackhole/scim/v2/ {
        scim;
        scim_redis 10.255.255.1:6379;
        scim_tenant blackhole;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }

    location /badpw/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_redis_password wrong-password;
        scim_tenant badpw;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
    }
}
EOF
$t->start_nginx_ok;

# password + db 3
my $r = $t->post('Users', entra_user(userName => 'db3@example.com'));
is_scim_json($r, 201, 'POST through AUTH + SELECT 3');
my $id = $r->{json}{id} // 'none';
ok(defined $t->redis_cmd({ db => 3 }, 'HGET', "scim:{acme}:User:docs", $id), 'stored in db 3');
ok(!defined $t->redis_cmd('HGET', "scim:{acme}:User:docs", $id), 'not in db 0');
is($t->redis_cmd({ db => 3 }, 'HGET', 'scim:{acme}:User:idx:userName', 'db3@example.com'), $id,
   'index in db 3');
is_scim_json($t->get("Users/$id"), 200, 'GET through db 3');
is_list_response($t->list(filter => 'userName eq "db3@example.com"'), 1, 1, 'filter through db 3');

# unix socket
$r = $t->post('/unix/scim/v2/Users', entra_user(userName => 'unix@example.com'));
is_scim_json($r, 201, 'POST over the unix socket');
my $uid = $r->{json}{id} // 'none';
ok(defined $t->redis_cmd('HGET', "scim:{unixt}:User:docs", $uid), 'stored in db 0 under tenant unixt');
is_scim_json($t->get("/unix/scim/v2/Users/$uid"), 200, 'GET over the unix socket');

# no password / wrong password
for my $loc ('nopw', 'badpw', 'blackhole') {
    $r = $t->get("/$loc/scim/v2/Users?" . qs(filter => 'userName eq "x"'));
    is_scim_error($r, 503, undef, "$loc: no usable Redis -> 503 SCIM error");
    ok($r->{elapsed} < 3.5, sprintf('%s: answered in %.2fs', $loc, $r->{elapsed}));
    $r = $t->post("/$loc/scim/v2/Users", entra_user());
    is_scim_error($r, 503, undef, "$loc: POST -> 503");
}
is_scim_json($t->get("Users/$id"), 200, 'the good location is unaffected');

# scim_redis_connections 3: many requests, at most 2 workers x 3 (+ 1 per
# worker for /unix, + failing ones) connections
my $out = $t->parallel(12, sub {
    my $ok = 0;
    for (1 .. 10) { $ok++ if $t->get("Users/$id", keepalive => 0)->{status} == 200 }
    return $ok;
});
is_deeply($out, [ (10) x 12 ], '12 clients x 10 GETs through 3 connections per worker');
my $db3 = grep { ($_->{db} // '') eq '3' } $t->redis_clients;
ok($db3 >= 1 && $db3 <= 6, "connections on db 3: $db3 (<= 2 workers x 3)");

ok($t->stop_nginx, 'nginx stopped');
unlike($t->error_log . ($t->read_file('access.log') // ''), qr/\Q$PW\E/,
       'the Redis password is in no log');

$t->finish;

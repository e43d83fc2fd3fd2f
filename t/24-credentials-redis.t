#!/usr/bin/perl

# Credentials in Redis (issue 10): bearer tokens in scim:{T}:auth:tokens
# and OAuth clients in scim:{T}:auth:clients, written by
# tools/scim-credentials, read by "scim_redis_credentials on" locations
# (scim and a per-tenant token endpoint); revocation (of a token, of a
# client, of a client's access tokens) without a reload, the per-worker
# cache (scim_redis_credentials_cache), records of a bad shape, Redis
# down (503, not 401); a file client removed by a reload loses its
# access tokens.  Runs on a Redis Cluster too (SCIM_TEST_REDIS=cluster;
# the Redis-down part needs the single server).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(time sleep);
use ScimTest;

# one worker: what its cache holds is what the next request sees
my $t = ScimTest->new(workers => 1);
my $dir = $t->dir;
my $cli = $t->repo . '/tools/scim-credentials';

sub rnd { sha256_hex(join '', @_, $$, rand(), time) }

my $file_sec = 'file-secret-' . rnd('f');
my $key = rnd('key');

$t->write_file('key.hex', "$key\n");
$t->write_file('clients', "acme app-file $file_sec\n"
                        . "acme app-other sha256:" . rnd('o') . "\n");

my $conf = <<'EOF';
scim_redis %%REDIS%%;
scim_oauth_key %%DIR%%/key.hex;
scim_oauth_clients %%DIR%%/clients;

server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;

    location = /oauth2/token {
        scim_oauth_token;
    }

    location ~ ^/oauth2/([a-z0-9-]+)/token$ {
        scim_oauth_token;
        scim_tenant $1;
        scim_redis_credentials on;
    }

    location ~ ^/t/([a-z0-9-]+)/scim/v2/ {
        scim;
        scim_tenant $1;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_credentials on;
        scim_redis_credentials_cache 0;
    }

    location ~ ^/cached/([a-z0-9-]+)/scim/v2/ {
        scim;
        scim_tenant $1;
        scim_redis_credentials on;
        scim_redis_credentials_cache 1h;
    }

    location ~ ^/nocred/([a-z0-9-]+)/scim/v2/ {
        scim;
        scim_tenant $1;
        scim_bearer_token_file %%TOKEN_FILE%%;
    }
}
EOF

$t->write_config($conf);
$t->start_nginx_ok;

# the CLI against the test's Redis (a cluster: its last primary; the
# CLI follows MOVED): (exit code, stdout, stderr)
my $redis_port = $t->cluster ? ($t->cluster->primaries)[-1] : $t->redis_port;

sub cli {
    my @args = @_;
    my $out = "$dir/cli.out";
    my $err = "$dir/cli.err";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or exit 99;
        open STDERR, '>', $err or exit 99;
        exec $^X, $cli, '-h', '127.0.0.1', '-p', $redis_port, @args;
        exit 99;
    }
    waitpid($pid, 0);
    return ($? >> 8, $t->read_file('cli.out') // '',
            $t->read_file('cli.err') // '');
}

sub created {
    my ($name, @args) = @_;
    my ($rc, $out, $err) = cli(@args);
    is($rc, 0, "$name: exit 0") or diag($err);
    my ($secret) = $out =~ /^([A-Za-z0-9_-]{43})\n\z/;
    ok($secret, "$name: one secret on stdout");
    return $secret // 'none';
}

sub users {
    my ($path, $tok) = @_;
    return $t->get("/$path/scim/v2/Users?count=1", token => $tok);
}

sub invalid_token {
    my ($res, $name) = @_;
    is_scim_error($res, 401, undef, "$name: 401 SCIM error");
    like($res->{headers}{'www-authenticate'} // '',
         qr/^Bearer\b.*error="invalid_token"/, "$name: error=invalid_token");
}

# poll (a generous deadline, no fixed sleep): the status that comes
sub status_within {
    my ($secs, $want, $sub) = @_;
    my $end = time + $secs;
    my $res;
    while (1) {
        $res = $sub->();
        return $res if $res->{status} == $want || time > $end;
        sleep 0.1;
    }
}

# ---- bearer tokens

my $tok = created('token create', 'token', 'create', 'acme',
                  '--label', 'Entra provisioning');
my $digest = sha256_hex($tok);

is(users('t/acme', $tok)->{status}, 200, 'a Redis token opens its tenant');
is_scim_error(users('t/globex', $tok), 401, undef,
              'and not another tenant');
is_scim_error(users('nocred/acme', $tok), 401, undef,
              'nor a location without scim_redis_credentials');
is(users('t/globex', $t->token)->{status}, 200,
   'a file token still works beside');
is_scim_error(users('t/acme', 'unknown-' . rnd('u')), 401, undef,
              'an unknown token: 401');
is_scim_error(users('t/acme', undef), 401, undef, 'no token: 401');

{
    my $v = $t->redis_cmd('HGET', 'scim:{acme}:auth:tokens', $digest);
    like($v // '', qr/^\d+ 0 Entra provisioning\z/,
         'the record: created, expires 0, label');
    my $keys = join ' ', $t->redis_keys('scim:{acme}:auth:*');
    unlike($keys . ($t->redis_cmd('HGETALL', 'scim:{acme}:auth:tokens')
                    ->[1] // ''), qr/\Q$tok\E/,
           'the token itself is nowhere in Redis');
}

# a body read after the lookup: a POST, and one of 200 KB (chunked too)
{
    my $r = $t->post('/t/acme/scim/v2/Users',
                     { schemas => [URN_USER], userName => 'after-lookup' },
                     token => $tok);
    is($r->{status}, 201, 'POST /Users with a Redis token: 201');
    my $big = { schemas => [URN_USER], userName => 'big-after-lookup',
                displayName => 'x' x 200000 };
    $r = $t->post('/t/acme/scim/v2/Users', $big, token => $tok);
    ok($r->{status} == 201 || $r->{status} == 400 || $r->{status} == 413,
       'a 200 KB body after the lookup: answered (' . $r->{status} . ')')
        and isnt($r->{status}, 401, 'authenticated');
    $r = $t->request('POST', '/t/acme/scim/v2/Users',
        body => json_encode({ schemas => [URN_USER],
                              userName => 'chunked-after-lookup' }),
        token => $tok, chunked => 1);
    is($r->{status}, 201, 'a chunked POST with a Redis token: 201');
    $r = $t->request('POST', '/t/acme/scim/v2/Users',
        body => json_encode({ schemas => [URN_USER], userName => 'nope' }),
        token => 'unknown-' . rnd('p'));
    is_scim_error($r, 401, undef, 'a POST with an unknown token: 401');
    is($t->get('/t/acme/scim/v2/Users?filter=userName%20eq%20%22nope%22',
               token => $tok)->{json}{totalResults}, 0,
       'and nothing was created');
}

# /ServiceProviderConfig: bearer tokens listed beside oauth2 where Redis
# tokens are accepted
{
    my $spc = $t->get('/cached/acme/scim/v2/ServiceProviderConfig',
                      token => $tok);
    is($spc->{status}, 200, 'ServiceProviderConfig with a Redis token');
    my @types = map { $_->{type} }
                @{ $spc->{json}{authenticationSchemes} // [] };
    is_deeply([ sort @types ], [qw(oauth2 oauthbearertoken)],
              'it lists oauthbearertoken and oauth2');
}

# expiry: as a record the application could write
my $old = 'expired-' . rnd('e');
$t->redis_cmd('HSET', 'scim:{acme}:auth:tokens', sha256_hex($old),
              '1600000000 1600086400 old');
is_scim_error(users('t/acme', $old), 401, undef, 'an expired token: 401');
my $soon = 'later-' . rnd('l');
$t->redis_cmd('HSET', 'scim:{acme}:auth:tokens', sha256_hex($soon),
              '1600000000 ' . (int(time) + 3600) . ' soon');
is(users('t/acme', $soon)->{status}, 200,
   'a token expiring in an hour: 200');

# records of a bad shape refuse the token, nothing worse
{
    my $i = 0;
    for my $bad ('', 'garbage', '12', '12x 0', '-1 0', '1 0' . ('x' x 5000),
                 '1 99999999999999999999', "1\t0") {
        my $tk = 'bad-' . $i++ . '-' . rnd('b');
        $t->redis_cmd('HSET', 'scim:{acme}:auth:tokens', sha256_hex($tk),
                      $bad);
        is_scim_error(users('t/acme', $tk), 401, undef,
                      "a record \"" . substr($bad, 0, 20) . "\": 401");
    }
    $t->redis_cmd('SET', 'scim:{wrongtype}:auth:tokens', 'a string');
    my $r = users('t/wrongtype', 'wt-' . rnd('w'));
    ok($r->{status} == 500 || $r->{status} == 401,
       'the key of another type: 500 or 401, a SCIM error')
        and is_scim_error($r, $r->{status}, undef, 'a SCIM error');
}

# the cache: a revoked token keeps working where it is cached (1h), at
# once not where the cache is off
is(users('cached/acme', $tok)->{status}, 200, 'cached location: 200');
{
    my ($rc, undef, $err) = cli('token', 'revoke', 'acme',
                                substr($digest, 0, 10));
    is($rc, 0, 'token revoke by digest prefix') or diag($err);
}
is_scim_error(users('t/acme', $tok), 401, undef,
              'revoked: 401 at once with the cache off');
is(users('cached/acme', $tok)->{status}, 200,
   'revoked: still 200 within scim_redis_credentials_cache');
is_scim_error(users('cached/acme', 'unknown-' . rnd('u2')), 401, undef,
              'cached location, unknown token: 401');

# ---- OAuth clients in Redis: the per-tenant token endpoint

my $FORM = 'application/x-www-form-urlencoded';

sub basic { 'Basic ' . encode_base64("$_[0]:$_[1]", '') }

sub grant {
    my ($tenant, $id, $secret) = @_;
    return $t->request('POST', "/oauth2/$tenant/token",
        body => 'grant_type=client_credentials', token => undef,
        ctype => $FORM, headers => { Authorization => basic($id, $secret) });
}

sub access {
    my ($res, $name) = @_;
    is($res->{status}, 200, "$name: 200") or diag($res->{content});
    my $j = eval { json_decode($res->{content}) } // {};
    is($res->{headers}{'cache-control'}, 'no-store', "$name: no-store");
    return $j->{access_token} // 'none';
}

sub refused {
    my ($res, $name) = @_;
    is($res->{status}, 401, "$name: 401");
    my $j = eval { json_decode($res->{content}) } // {};
    is($j->{error}, 'invalid_client', "$name: invalid_client");
    like($res->{headers}{'www-authenticate'} // '', qr/^Basic/,
         "$name: WWW-Authenticate Basic");
}

my $sec1 = created('client create', 'client', 'create', 'acme', 'entra');
my $at1 = access(grant('acme', 'entra', $sec1), 'a Redis client');
is(users('t/acme', $at1)->{status}, 200, 'its access token opens acme');
invalid_token(users('t/globex', $at1), 'its access token on globex');
refused(grant('acme', 'entra', 'wrong-' . rnd('w')), 'a wrong secret');
refused(grant('globex', 'entra', $sec1), "another tenant's endpoint");
refused(grant('acme', 'nobody', $sec1), 'an unknown client');
refused(grant('acme', 'app-other', $sec1),
        'a file client id with a Redis secret');
{
    my ($v, $iat) = unpack('C Q>', decode_base64(
        do { (my $p = (split /\./, $at1)[0]) =~ tr{-_}{+/};
             $p . '=' x (-length($p) % 4) }));
    is($v, 2, 'the access token of a Redis client: payload version 2');
    ok(abs($iat / 1000 - time) < 120, 'issued at in milliseconds');
}

# an expired secret, as a record the application could write
{
    my $exp_sec = 'exp-' . rnd('x');
    $t->redis_cmd('HSET', 'scim:{acme}:auth:clients', 'expired-app',
                  '1600000000 0 ' . sha256_hex($exp_sec) . ':1600086400');
    refused(grant('acme', 'expired-app', $exp_sec), 'an expired secret');
    $t->redis_cmd('HSET', 'scim:{acme}:auth:clients', 'bad-app',
                  '1600000000 0 ' . sha256_hex($exp_sec) . ':x');
    refused(grant('acme', 'bad-app', $exp_sec), 'a record of a bad shape');
}

# rotation: two secrets, then the old one removed
my $sec2 = created('client rotate', 'client', 'rotate', 'acme', 'entra');
access(grant('acme', 'entra', $sec1), 'rotated: the old secret');
my $at2 = access(grant('acme', 'entra', $sec2), 'rotated: the new secret');
{
    my ($rc, undef, $err) = cli('client', 'secret-remove', 'acme', 'entra',
                                substr(sha256_hex($sec1), 0, 8));
    is($rc, 0, 'client secret-remove') or diag($err);
}
refused(grant('acme', 'entra', $sec1), 'the removed secret');
my $at3 = access(grant('acme', 'entra', $sec2), 'the remaining secret');

# revoke-tokens: the earlier access tokens are refused, new ones work
is(users('cached/acme', $at2)->{status}, 200,
   'an access token, cached (1h)');
sleep 0.05;
{
    my ($rc, undef, $err) = cli('client', 'revoke-tokens', 'acme', 'entra');
    is($rc, 0, 'client revoke-tokens') or diag($err);
}
invalid_token(users('t/acme', $at2), 'an access token issued before');
invalid_token(users('t/acme', $at3), 'the other one issued before');
is(users('cached/acme', $at2)->{status}, 200,
   'still 200 within scim_redis_credentials_cache');
my $at4 = access(grant('acme', 'entra', $sec2), 'a new access token');
is(users('t/acme', $at4)->{status}, 200, 'a new access token works');

# revoke: the client, its secrets and tokens
{
    my ($rc, undef, $err) = cli('client', 'revoke', 'acme', 'entra');
    is($rc, 0, 'client revoke') or diag($err);
}
invalid_token(users('t/acme', $at4), 'the access token of a revoked client');
refused(grant('acme', 'entra', $sec2), 'the secret of a revoked client');

# a file client still gets tokens at the endpoint with Redis clients
my $atf = access(grant('acme', 'app-file', $file_sec),
                 'a file client at the Redis endpoint');
is(users('t/acme', $atf)->{status}, 200, 'its token works');

# ---- Redis down: 503 (not 401), and soon

if ($t->cluster) {
    pass('Redis down: single server only');
} else {
    my $tk = created('another token', 'token', 'create', 'acme');
    my $sc = created('another client', 'client', 'create', 'acme', 'c2');
    my $atc = access(grant('acme', 'c2', $sc), 'c2');
    $t->{allow_log} = qr/redis|Redis|connect/;
    ok($t->stop_redis, 'redis stopped');

    my $r = users('t/acme', $tk);
    is_scim_error($r, 503, undef, 'a Redis token, Redis down: 503');
    is($r->{headers}{'retry-after'}, '1', 'Retry-After');
    ok($r->{elapsed} < 10, 'answered without a hang');
    is_scim_error(users('t/acme', $atc), 503, undef,
                  "a Redis client's access token, Redis down: 503");
    $r = grant('acme', 'c2', $sc);
    is($r->{status}, 503, 'the token endpoint, Redis down: 503');
    is($r->{headers}{'retry-after'}, '1', 'and Retry-After');
    is_scim_error(users('t/acme', 'unknown-' . rnd('d')), 503, undef,
                  'an unknown token, Redis down: 503 too');

    ok($t->start_redis, 'redis started again (empty)');
    $r = status_within(15, 401, sub { users('t/acme', $tk) });
    is_scim_error($r, 401, undef, 'after the restart, the token is gone');
}

# ---- a file client removed from the file: its tokens refused

is(users('t/acme', $atf)->{status}, 200, 'the file client token: 200');
$t->write_file('clients', "acme app-other sha256:" . rnd('o2') . "\n");
ok($t->reload(wait_old => 1), 'reload without the client');
invalid_token(users('t/acme', $atf), 'the token of a removed file client');

# ---- nginx -t: the directives

{
    my ($ok, $out) = $t->nginx_t(<<'EOF');
scim_redis %%REDIS%%;
server {
    listen 127.0.0.1:%%PORT%%;
    location /scim/ { scim; scim_redis_credentials on; }
    location = /token {
        scim_oauth_token;
        scim_oauth_key %%DIR%%/key.hex;
        scim_redis_credentials on;
    }
}
EOF
    ok($ok, 'nginx -t: scim_redis_credentials alone authenticates, and '
            . 'a token endpoint needs no clients file with it') or diag($out);

    ($ok, $out) = $t->nginx_t(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location = /token {
        scim_oauth_token;
        scim_oauth_key %%DIR%%/key.hex;
    }
}
EOF
    ok(!$ok, 'nginx -t: a token endpoint without clients fails');
    like($out, qr/scim_redis_credentials on/, 'and names the directive');

    ($ok, $out) = $t->nginx_t(<<'EOF');
server {
    listen 127.0.0.1:%%PORT%%;
    location /scim/ { scim; scim_redis_credentials maybe; }
}
EOF
    ok(!$ok, 'nginx -t: scim_redis_credentials takes on|off');
}

$t->finish;

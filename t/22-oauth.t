#!/usr/bin/perl

# OAuth 2.0 client credentials (issue 10): the token endpoint
# (scim_oauth_token) and its errors (RFC 6749 5.2), client secrets with
# rotation and expiry (scim_oauth_clients), signed access tokens
# (scim_oauth_key, several for rotation; scim_oauth_token_ttl) accepted by
# scim locations of their tenant only, on every host sharing the key;
# $scim_client; /ServiceProviderConfig; nginx -t on the files.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $dir = $t->dir;

sub rnd { sha256_hex(join '', @_, $$, rand(), time) }

my $key1 = pack('H*', rnd('k1'));             # signs
my $key0 = pack('H*', rnd('k0') . rnd('k0b')); # the previous key: 64 bytes
my $acme_old = 'acme-old-' . rnd('ao');
my $acme_new = 'acme-new-' . rnd('an');
my $acme_exp = 'acme-expired-' . rnd('ae');
my $acme_fut = 'acme-future-' . rnd('af');
my $glob_sec = 'globex+secret/' . rnd('g') . '=:%';
my $glob_id  = 'app:globex';
my $today_sec = 'today-' . rnd('t');
my $yday_sec  = 'yesterday-' . rnd('y');

sub ymd {
    my @t = gmtime(shift);
    return sprintf('%04d-%02d-%02d', $t[5] + 1900, $t[4] + 1, $t[3]);
}

$t->write_file('key1.hex', unpack('H*', $key1) . "\n");
$t->write_file('key0.raw', $key0);
$t->write_file('clients', join '',
    "# tenant client_id secret [expires=]\n",
    "\n",
    "acme   app-acme  $acme_old\n",
    "  acme app-acme  sha256:" . sha256_hex($acme_new) . "   # rotated in\n",
    "acme\tapp-acme\t$acme_exp\texpires=2020-01-31\n",
    "acme   app-acme  $acme_fut expires=2099-12-31\r\n",
    "globex $glob_id  $glob_sec\n",
    "acme   app-today  $today_sec expires=" . ymd(time) . "\n",
    "acme   app-today  $yday_sec expires=" . ymd(time - 86400) . "\n",
);

my $conf = <<'EOF';
log_format oauth '$request_method $uri $status client=$scim_client '
                 'tenant=$scim_tenant';

scim_oauth_key %%DIR%%/key1.hex;
scim_oauth_key %%DIR%%/key0.raw;
scim_oauth_clients %%DIR%%/clients;
scim_redis %%REDIS%%;
limit_req_zone $binary_remote_addr zone=tok:1m rate=1r/m;

server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;
    access_log %%DIR%%/oauth.log oauth;

    location = /oauth2/token {
        scim_oauth_token;
    }

    location = /limited/token {
        limit_req zone=tok;
        limit_req_status 429;
        scim_oauth_token;
    }

    location = /short/token {
        scim_oauth_token;
        scim_oauth_token_ttl 2m;
    }

    location /acme/scim/v2/ {
        scim;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_oauth_token_uri https://scim.example.com/oauth2/token;
    }

    location /globex/scim/v2/ {
        scim;
        scim_tenant globex;
    }
}
EOF

$t->write_config($conf);
$t->start_nginx_ok;

my $FORM = 'application/x-www-form-urlencoded';

sub uenc {
    my $s = shift;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub basic {
    my ($id, $secret) = @_;
    return 'Basic ' . encode_base64(uenc($id) . ':' . uenc($secret), '');
}

# POST to the token endpoint: (form string, Authorization, %more)
sub token_req {
    my ($form, $auth, %o) = @_;
    return $t->request($o{method} // 'POST', $o{path} // '/oauth2/token',
        body => $form, token => undef, ctype => $o{ctype} // $FORM,
        headers => { Authorization => $auth, Accept => 'application/json' },
        $o{port} ? (port => $o{port}) : ());
}

sub oauth_error {
    my ($res, $status, $error, $name) = @_;
    is($res->{status}, $status, "$name: $status");
    like($res->{headers}{'content-type'} // '', qr{^application/json},
         "$name: application/json");
    my $j = eval { json_decode($res->{content}) } // {};
    is($j->{error}, $error, "$name: error $error");
    ok(no_html($res), "$name: no HTML");
    return $j;
}

sub granted {
    my ($res, $name, $ttl) = @_;
    is($res->{status}, 200, "$name: 200") or diag($res->{content});
    my $j = eval { json_decode($res->{content}) } // {};
    is($j->{token_type}, 'Bearer', "$name: token_type Bearer");
    is($j->{expires_in}, $ttl // 3600, "$name: expires_in");
    like($j->{access_token} // '', qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
         "$name: access_token base64url.base64url");
    is($res->{headers}{'cache-control'}, 'no-store', "$name: no-store");
    is($res->{headers}{pragma}, 'no-cache', "$name: Pragma no-cache");
    return $j->{access_token};
}

sub b64u { my $s = encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }
sub unb64u { my $s = shift; $s =~ tr{-_}{+/}; $s .= '=' x (-length($s) % 4);
             decode_base64($s) }

# a token as the module makes them, signed with $key
sub craft {
    my (%o) = @_;
    my $now = time;
    my $p = pack('C Q> Q> C/a C/a', 1, $o{iat} // $now,
                 $o{exp} // $now + 600, $o{tenant} // 'acme',
                 $o{client} // 'app-acme');
    return b64u($p) . '.' . b64u(hmac_sha256($p, $o{key} // $key1));
}

sub users {
    my ($tenant, $tok) = @_;
    return $t->get("/$tenant/scim/v2/Users?count=1", token => $tok);
}

sub invalid_token {
    my ($res, $name) = @_;
    is_scim_error($res, 401, undef, "$name: 401 SCIM error");
    like($res->{headers}{'www-authenticate'} // '',
         qr/^Bearer\b.*error="invalid_token"/, "$name: error=invalid_token");
}

# ---- the token endpoint: grants

my $gt = 'grant_type=client_credentials';

my $tok_acme = granted(token_req($gt, basic('app-acme', $acme_new)),
                       'Basic, the hashed (new) secret');
granted(token_req("$gt&client_id=app-acme&client_secret=" . uenc($acme_old),
                  undef), 'body credentials, the old secret (rotation)');
granted(token_req("client_secret=" . uenc($acme_fut)
                  . "&client_id=app-acme&$gt", undef),
        'a secret expiring in the future, parameters in any order');
granted(token_req("$gt&scope=scim", basic('app-acme', $acme_new)),
        'scope=scim');
granted(token_req("$gt&unknown=1&scope=", basic('app-acme', $acme_new)),
        'an empty scope and an unknown parameter');
my $tok_glob = granted(token_req($gt, basic($glob_id, $glob_sec)),
                       'Basic with url-encoded id and secret (2.3.1)');
granted(token_req("$gt&client_id=" . uenc($glob_id) . '&client_secret='
                  . uenc($glob_sec), undef),
        'body credentials with encoded characters');

my $short = granted(token_req($gt, basic('app-acme', $acme_new),
                              path => '/short/token'),
                    'scim_oauth_token_ttl 2m', 120);
{
    my ($v, $iat, $exp, $tenant, $client) =
        unpack('C Q> Q> C/a C/a', unb64u((split /\./, $short)[0]));
    is($v, 1, 'payload: version 1');
    is($exp - $iat, 120, 'payload: expires 120 s after issue');
    ok(abs($iat - time) < 60, 'payload: issued now');
    is($tenant, 'acme', 'payload: tenant');
    is($client, 'app-acme', 'payload: client id');
}

# ---- the token endpoint: errors

SKIP: {
    # the date is that of the file: not across midnight UTC
    my $sec = time % 86400;
    skip 'too close to midnight UTC', 2 if $sec < 30 || $sec > 86400 - 300;
    is(token_req($gt, basic('app-today', $today_sec))->{status}, 200,
       'expires=<today>: valid through the day');
    is(token_req($gt, basic('app-today', $yday_sec))->{status}, 401,
       'expires=<yesterday>: expired');
}

my $j = oauth_error(token_req($gt, basic('app-acme', $acme_exp)), 401,
                    'invalid_client', 'an expired secret');
like($j->{error_description} // '', qr/./, 'error_description given');
is(token_req($gt, basic('app-acme', $acme_exp))->{headers}{'www-authenticate'},
   'Basic realm="scim"', 'invalid_client with Basic: WWW-Authenticate Basic');
oauth_error(token_req("$gt&client_id=app-acme&client_secret="
                      . uenc($acme_exp), undef),
            401, 'invalid_client', 'an expired secret in the body');
oauth_error(token_req($gt, basic('app-acme', 'wrong-' . $acme_new)), 401,
            'invalid_client', 'a wrong secret');
oauth_error(token_req($gt, basic('app-acme', $glob_sec)), 401,
            'invalid_client', "another client's secret");
oauth_error(token_req($gt, basic('nobody', $acme_new)), 401,
            'invalid_client', 'an unknown client');
oauth_error(token_req($gt, basic('app-acme', sha256_hex($acme_new))), 401,
            'invalid_client', 'the digest of the secret as the secret');
oauth_error(token_req($gt, undef), 401, 'invalid_client',
            'no client authentication');
oauth_error(token_req("$gt&client_id=app-acme", undef), 401,
            'invalid_client', 'a client id without a secret');
oauth_error(token_req($gt, 'Basic !!!notbase64'), 401, 'invalid_client',
            'malformed Basic');
oauth_error(token_req($gt, 'Basic ' . encode_base64('nocolon', '')), 401,
            'invalid_client', 'Basic without a colon');
oauth_error(token_req("$gt&client_id=app-acme&client_secret="
                      . uenc($acme_new), basic('app-acme', $acme_new)),
            400, 'invalid_request', 'Basic and body credentials at once');
oauth_error(token_req('scope=scim', basic('app-acme', $acme_new)), 400,
            'invalid_request', 'grant_type missing');
oauth_error(token_req("$gt&$gt", basic('app-acme', $acme_new)), 400,
            'invalid_request', 'grant_type twice');
oauth_error(token_req("$gt&client_id=a&client_id=b&client_secret=x",
                      undef),
            400, 'invalid_request', 'client_id twice');
oauth_error(token_req("$gt&scope=%zz", basic('app-acme', $acme_new)), 400,
            'invalid_request', 'a bad %-escape');
oauth_error(token_req('grant_type=password&username=a&password=b',
                      basic('app-acme', $acme_new)),
            400, 'unsupported_grant_type', 'grant_type=password');
oauth_error(token_req('grant_type=authorization_code&code=x',
                      basic('app-acme', $acme_new)),
            400, 'unsupported_grant_type', 'grant_type=authorization_code');
oauth_error(token_req("$gt&scope=openid", basic('app-acme', $acme_new)), 400,
            'invalid_scope', 'scope=openid');
oauth_error(token_req("$gt&scope=scim+admin", basic('app-acme', $acme_new)),
            400, 'invalid_scope', 'scope "scim admin"');
oauth_error(token_req('{"grant_type":"client_credentials"}',
                      basic('app-acme', $acme_new),
                      ctype => 'application/json'),
            400, 'invalid_request', 'a JSON body');
oauth_error(token_req($gt, basic('app-acme', $acme_new),
                      ctype => 'application/x-www-form-urlencodedX'),
            400, 'invalid_request', 'a Content-Type that only starts right');
granted(token_req($gt, basic('app-acme', $acme_new),
                  ctype => 'Application/X-WWW-Form-Urlencoded; charset=UTF-8'),
        'the form type with a charset, any case');
oauth_error(token_req("$gt&pad=" . ('x' x 20000),
                      basic('app-acme', $acme_new)),
            400, 'invalid_request', 'a 20 kB body');
{
    my $r = $t->request('POST', '/oauth2/token', token => undef,
                        body => "$gt&pad=" . ('x' x 20000), ctype => $FORM,
                        chunked => 1,
                        headers => { Authorization =>
                                     basic('app-acme', $acme_new) });
    oauth_error($r, 400, 'invalid_request', 'a 20 kB chunked body');
}
{
    my $r = $t->request('GET', '/oauth2/token', token => undef);
    oauth_error($r, 405, 'invalid_request', 'GET');
    is($r->{headers}{allow}, 'POST', 'GET: Allow: POST');
    is($r->{headers}{'cache-control'}, 'no-store', 'GET: no-store');
}
oauth_error(token_req($gt, basic('app-acme', $acme_new), method => 'PUT'),
            405, 'invalid_request', 'PUT');

# nginx's own errors at the endpoint: OAuth JSON too, never HTML
granted(token_req($gt, basic('app-acme', $acme_new),
                  path => '/limited/token'), 'limit_req: the first passes');
oauth_error(token_req($gt, basic('app-acme', $acme_new),
                      path => '/limited/token'),
            429, 'temporarily_unavailable', 'limit_req: the second, 429');
{
    my $r = $t->raw_request("POST /oauth2/token HTTP/1.1\r\n"
        . "Host: localhost\r\nContent-Type: $FORM\r\n"
        . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        . "zz\r\ngrant_type=client_credentials\r\n0\r\n\r\n");
    oauth_error($r, 400, 'invalid_request', 'a malformed chunked body');
}

# ---- access tokens on scim locations

is(users('acme', $tok_acme)->{status}, 200, 'acme token opens acme');
is(users('globex', $tok_glob)->{status}, 200,
   'globex token opens globex (a location without a bearer file)');
{
    my $u = $t->post('/acme/scim/v2/Users',
                     { schemas => [URN_USER], userName => 'oauth-user' },
                     token => $tok_acme);
    is($u->{status}, 201, 'a user created with an access token');
    my $id = $u->{json}{id} // 'none';
    is($t->get("/acme/scim/v2/Users/$id", token => $tok_acme)->{status}, 200,
       'and read back with it');
    is($t->get("/globex/scim/v2/Users/$id", token => $tok_glob)->{status},
       404, 'globex does not see it');
}
is(users('acme', $t->token)->{status}, 200,
   'the bearer file token still opens acme');
invalid_token(users('globex', $tok_acme), "acme's token on globex");
invalid_token(users('acme', $tok_glob), "globex's token on acme");
is_scim_error(users('globex', $t->token), 401, undef,
              'a bearer file token on a location without the file');
is_scim_error(users('acme', undef), 401, undef, 'no token at all');

is(users('acme', craft())->{status}, 200,
   'a token made as documented, with the first key');
is(users('acme', craft(key => $key0))->{status}, 200,
   'a token signed with the second (previous) key');
invalid_token(users('acme', craft(key => pack('H*', rnd('other')))),
              'a token signed with an unknown key');
invalid_token(users('acme', craft(exp => time - 5, iat => time - 3605)),
              'an expired token');
invalid_token(users('acme', craft(tenant => 'globex')),
              'a well-signed token of globex on acme');
{
    my ($p, $s) = split /\./, $tok_acme;
    my $raw = unb64u($p);
    substr($raw, -1, 1) = 'X';                # another client id
    invalid_token(users('acme', b64u($raw) . ".$s"),
                  'a tampered payload');
    my $far = $raw;
    substr($far, 9, 8) = pack('Q>', time + 10 * 365 * 86400);
    invalid_token(users('acme', b64u($far) . ".$s"),
                  'an expiry moved forward');
    invalid_token(users('acme', "$p." . b64u(pack('H*', rnd('sig')))),
                  'a wrong signature');
    # not shaped like an access token: an ordinary wrong bearer token
    is_scim_error(users('acme', "$p.$p"), 401, undef,
                  'the payload as signature');
    is_scim_error(users('acme', $p), 401, undef,
                  'a payload without signature');
    invalid_token(users('globex', 'x' x 5000 . ".$s"),
                  'a long token on an oauth-only location');
}

# ---- /ServiceProviderConfig

{
    my $r = $t->get('/acme/scim/v2/ServiceProviderConfig', token => $tok_acme);
    is($r->{status}, 200, 'SPC with an access token');
    my @s = @{ $r->{json}{authenticationSchemes} // [] };
    is_deeply([sort map { $_->{type} } @s], ['oauth2', 'oauthbearertoken'],
              'acme: bearer file tokens and OAuth 2.0');
    my ($o) = grep { $_->{type} eq 'oauth2' } @s;
    is($o->{tokenUri}, 'https://scim.example.com/oauth2/token',
       'the token endpoint URI');
    $r = $t->get('/globex/scim/v2/ServiceProviderConfig', token => $tok_glob);
    @s = @{ $r->{json}{authenticationSchemes} // [] };
    is_deeply([map { $_->{type} } @s], ['oauth2'], 'globex: OAuth 2.0 only');
    ok(!exists $s[0]{tokenUri}, 'no tokenUri when not configured');
}

# ---- a second host with the same key accepts the first one's tokens

{
    my $t2 = ScimTest->new(workers => 1);
    $t2->write_file('key.hex', unpack('H*', $key1) . "\n");
    $t2->write_file('key0.raw', $key0);
    $t2->write_file('clients', "acme app-acme $acme_new\n");
    $t2->write_config(<<'EOF');
scim_oauth_key %%DIR%%/key0.raw;
scim_oauth_key %%DIR%%/key.hex;
scim_oauth_clients %%DIR%%/clients;
server {
    listen 127.0.0.1:%%PORT%%;
    location = /oauth2/token { scim_oauth_token; }
    location /acme/scim/v2/ { scim; scim_redis %%REDIS%%; scim_tenant acme; }
}
EOF
    $t2->start_nginx_ok;
    is($t2->get('/acme/scim/v2/Users?count=1', token => $tok_acme)->{status},
       200, "host 2 accepts host 1's token");
    my $tok2 = granted(token_req($gt, basic('app-acme', $acme_new),
                                 port => $t2->port),
                       'host 2 (keys in the other order) grants');
    is(users('acme', $tok2)->{status}, 200,
       "host 1 accepts host 2's token (signed with host 1's second key)");
    $t2->stop_nginx;
    $t2->stop_redis;
}

# ---- logs: $scim_client; no secret or token anywhere

{
    $t->stop_nginx;     # flushes the logs
    my $log = $t->read_file('oauth.log') // '';
    like($log, qr{^GET /acme/scim/v2/Users 200 client=app-acme tenant=acme$}m,
         '$scim_client of an access token');
    like($log, qr{^POST /oauth2/token 200 client=app-acme tenant=acme$}m,
         '$scim_client of a grant');
    like($log, qr{^GET /acme/scim/v2/Users 200 client=- tenant=acme$}m,
         '$scim_client is empty for a bearer file token');
    like($log, qr{^POST /oauth2/token 401 client=- }m,
         'no client for a refused grant');
    my $all = $log . ($t->read_file('access.log') // '') . $t->error_log;
    for my $s ($acme_old, $acme_new, $acme_exp, $glob_sec, uenc($glob_sec),
               $tok_acme, (split /\./, $tok_acme)[1], unpack('H*', $key1))
    {
        ok(index($all, $s) < 0, 'no secret, token or key in the logs');
    }
    like($t->error_log, qr/scim oauth: client "app-acme": the secret has expired/,
         'the reason of a 401 at info: expired');
    like($t->error_log, qr/scim oauth: client "app-acme": wrong secret/,
         'the reason of a 401 at info: wrong secret');
    like($t->error_log, qr/access token of client "app-acme" is for tenant/,
         "the reason of a 401 at info: another tenant's token");
    $t->start_nginx_ok;
}

# ---- nginx -t

sub nt_fails {
    my ($name, $files, $body, $re) = @_;
    $t->write_file($_, $files->{$_}) for keys %$files;
    my ($ok, $out) = $t->nginx_t($body);
    ok(!$ok, "nginx -t fails: $name");
    like($out, $re, "nginx -t: $name: the message");
}

my $with = sub {
    my ($clients, $extra) = @_;
    return "scim_oauth_key %%DIR%%/key1.hex;\n"
         . "scim_oauth_clients %%DIR%%/$clients;\n" . ($extra // '')
         . "server { listen 127.0.0.1:%%PORT%%;\n"
         . "  location = /t { scim_oauth_token; } }\n";
};

nt_fails('two fields', { c1 => "# ok\nacme only-two\n" }, $with->('c1'),
         qr{c1" *: line 2: expected});
nt_fails('five fields', { c2 => "acme a b" . ('c' x 16)
                                . " expires=2030-01-01 more\n" },
         $with->('c2'), qr{c2": line 1: expected});
nt_fails('bad hex', { c3 => "acme a sha256:" . ('g' x 64) . "\n" },
         $with->('c3'), qr{c3": line 1: "sha256:" needs 64 hex digits});
nt_fails('short hex', { c4 => "acme a sha256:abcd\n" }, $with->('c4'),
         qr{c4": line 1: "sha256:" needs 64 hex digits});
nt_fails('bad date', { c5 => "\nacme a " . ('s' x 20)
                             . " expires=2027-02-29\n" },
         $with->('c5'), qr{c5": line 2: expected "expires=YYYY-MM-DD"});
nt_fails('not a date', { c6 => "acme a " . ('s' x 20) . " until=2027\n" },
         $with->('c6'), qr{c6": line 1: expected "expires=YYYY-MM-DD"});
nt_fails('bad tenant', { c7 => "ac{me} a " . ('s' x 20) . "\n" },
         $with->('c7'), qr{c7": line 1: invalid tenant});
nt_fails('short secret', { c8 => "acme a short\n" }, $with->('c8'),
         qr{c8": line 1: secret shorter than 16});
nt_fails('empty file', { c9 => "# nothing\n\n" }, $with->('c9'),
         qr{c9": no client in it});
nt_fails('missing file', {}, $with->('nonexistent'),
         qr{scim_oauth_clients ".*nonexistent"});
nt_fails('short key', { k1 => 'ab' x 31 . "\n" },
         "scim_oauth_key %%DIR%%/k1;\n",
         qr{k1": the key is 31 bytes, needs at least 32});
nt_fails('short raw key', { k2 => 'z' x 31 },
         "scim_oauth_key %%DIR%%/k2;\n", qr{k2": the key is 31 bytes});
nt_fails('ttl too short', {}, $with->('clients',
         "scim_oauth_token_ttl 30s;\n"), qr{from 1m to 24h});
nt_fails('ttl too long', {}, $with->('clients',
         "scim_oauth_token_ttl 25h;\n"), qr{from 1m to 24h});
nt_fails('an endpoint without clients', {},
         "scim_oauth_key %%DIR%%/key1.hex;\n"
         . "server { listen 127.0.0.1:%%PORT%%;\n"
         . "  location = /t { scim_oauth_token; } }\n",
         qr{"scim_oauth_token" needs "scim_oauth_clients"});
nt_fails('scim_oauth_token in a scim location', {},
         "scim_oauth_key %%DIR%%/key1.hex;\n"
         . "scim_oauth_clients %%DIR%%/clients;\n"
         . "server { listen 127.0.0.1:%%PORT%%;\n"
         . "  location / { scim; scim_oauth_token; scim_redis %%REDIS%%; } }\n",
         qr{"scim_oauth_token" and "scim" cannot share a location});
nt_fails('scim with neither tokens nor keys', {},
         "server { listen 127.0.0.1:%%PORT%%;\n"
         . "  location / { scim; scim_redis %%REDIS%%; } }\n",
         qr{needs "scim_bearer_token_file" or "scim_oauth_key"});
{
    my ($ok, $out) = $t->nginx_t($with->('clients',
                                         "scim_oauth_token_ttl 6h;\n"));
    ok($ok, 'nginx -t passes: the clients file, a hex key, ttl 6h')
        or diag($out);
}

$t->finish;

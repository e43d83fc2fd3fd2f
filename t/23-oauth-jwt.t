#!/usr/bin/perl

# Workload identity federation (issue 10): JWT client assertions (RFC
# 7523) at the token endpoint, as Microsoft Entra sends them: "jwt" lines
# of scim_oauth_clients (iss, sub, aud, expires), scim_oauth_jwks (RSA
# and EC P-256 keys, kid selection), scim_oauth_jwt_leeway, the refusals
# (invalid_client), the refresh of a JWKS file by the workers
# (scim_oauth_jwks_refresh), nginx -t on the files, tools/scim-jwks-fetch.
# Keys are made by openssl here, assertions signed with openssl dgst.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use Time::HiRes qw(time sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $dir = $t->dir;

sub b64u { my $s = encode_base64(shift, ''); $s =~ tr{+/}{-_}; $s =~ s/=+$//; $s }

sub run {
    my (@cmd) = @_;
    my $out = `@cmd 2>&1`;
    die "@cmd: $out" if $?;
    return $out;
}

# ---- keys, JWKs

sub rsa_key {
    my $name = shift;
    run("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048"
        . " -out $dir/$name.pem");
    my $mod = run("openssl rsa -in $dir/$name.pem -noout -modulus");
    $mod =~ /Modulus=([0-9A-F]+)/ or die "modulus: $mod";
    my $n = pack('H*', $1);
    my $pub = run("openssl rsa -in $dir/$name.pem -pubout");
    return { pem => "$dir/$name.pem", type => 'RSA', pub => $pub,
             jwk => { kty => 'RSA', n => b64u($n), e => 'AQAB' } };
}

sub ec_key {
    my $name = shift;
    run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256"
        . " -out $dir/$name.pem");
    my $text = run("openssl ec -in $dir/$name.pem -noout -text");
    $text =~ /pub:\s*((?:[0-9a-f]{2}:?\s*)+)/ or die "ec: $text";
    (my $hex = $1) =~ s/[^0-9a-f]//g;
    my $pt = pack('H*', $hex);
    die "not an uncompressed point" unless length($pt) == 65
                                           && substr($pt, 0, 1) eq "\x04";
    return { pem => "$dir/$name.pem", type => 'EC',
             jwk => { kty => 'EC', crv => 'P-256',
                      x => b64u(substr($pt, 1, 32)),
                      y => b64u(substr($pt, 33, 32)) } };
}

sub jwk { my ($k, $kid, %more) = @_; return { %{ $k->{jwk} }, kid => $kid, %more } }

my $rsa1 = rsa_key('rsa1');
my $rsa2 = rsa_key('rsa2');
my $rsa3 = rsa_key('rsa3');
my $ec1 = ec_key('ec1');

# ---- JWTs

# DER ECDSA-Sig-Value -> r | s, 32 bytes each
sub der_to_raw {
    my $der = shift;
    my @b = unpack('C*', $der);
    my $i = 2;
    $i++ if $b[1] & 0x80;
    my @ints;
    for (1 .. 2) {
        die "not an INTEGER" unless $b[$i] == 0x02;
        my $len = $b[$i + 1];
        my $v = pack('C*', @b[$i + 2 .. $i + 1 + $len]);
        $v =~ s/^\x00+//;
        push @ints, ("\x00" x (32 - length $v)) . $v;
        $i += 2 + $len;
    }
    return $ints[0] . $ints[1];
}

my $SEQ = 0;

sub sign {
    my ($key, $data) = @_;
    $SEQ++;
    $t->write_file("in$SEQ", $data);
    run("openssl dgst -sha256 -sign $key->{pem} -out $dir/sig$SEQ"
        . " $dir/in$SEQ");
    my $sig = $t->read_file("sig$SEQ");
    return $key->{type} eq 'EC' ? der_to_raw($sig) : $sig;
}

my $TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
my $ISS = "https://login.microsoftonline.com/$TID/v2.0";
my $SUB = 'f1e2d3c4-0000-4000-8000-00000000acme';
my $SUB2 = 'f1e2d3c4-0000-4000-8000-0000000acme2';
my $AUD = 'api://11111111-2222-3333-4444-555555555555';
my $GSUB = 'f1e2d3c4-0000-4000-8000-000000globex';

# an assertion: header and claims over the defaults, signed by key
sub jwt {
    my (%o) = @_;
    my $now = time;
    my $key = delete $o{key} // $rsa1;
    my %h = (alg => $key->{type} eq 'EC' ? 'ES256' : 'RS256',
             typ => 'JWT', kid => $key->{kid} // 'r1',
             %{ delete $o{header} // {} });
    delete $h{$_} for grep { !defined $h{$_} } keys %h;
    my %c = (iss => $ISS, sub => $SUB, aud => $AUD, exp => int($now) + 300,
             nbf => int($now) - 10, iat => int($now) - 10,
             jti => sha256_hex(rand()), %o);
    delete $c{$_} for grep { !defined $c{$_} } keys %c;
    my $in = b64u(json_encode(\%h)) . '.' . b64u(json_encode(\%c));
    return $in . '.' . b64u(sign($key, $in));
}

$rsa1->{kid} = 'r1';
$rsa2->{kid} = 'r2';
$rsa3->{kid} = 'r3';
$ec1->{kid} = 'e1';

sub jwks_json { return json_encode({ keys => [ @_ ] }) }

$t->write_file('jwks.json', jwks_json(
    jwk($rsa1, 'r1', use => 'sig', alg => 'RS256'),
    jwk($ec1, 'e1'),
    { kty => 'oct', kid => 'o1', k => b64u('x' x 32) },
    jwk($rsa3, 'enc-key', use => 'enc'),
    { kty => 'RSA', kid => 'nokey' },
));
$t->write_file('rot.json', jwks_json(jwk($rsa2, 'r2')));
$t->write_file('served.json', jwks_json(jwk($rsa2, 'served')));

$t->write_file('key.hex', sha256_hex(rand(), $$) . "\n");
$t->write_file('clients', join '',
    "# secret and jwt lines\n",
    "acme   app-acme-wif  acme-wif-secret-0123456789\n",
    "acme   app-acme-wif  jwt iss=$ISS sub=$SUB aud=$AUD\n",
    "acme   app-acme-wif  jwt aud=$AUD sub=$SUB2 iss=$ISS"
        . " expires=2099-12-31\n",
    "globex app-globex    jwt iss=$ISS sub=$GSUB aud=api://globex\n",
    "acme   app-old       jwt iss=$ISS sub=old-sub aud=$AUD"
        . " expires=2020-01-31\n",
);

my $conf = <<'EOF';
log_format wif '$request_method $uri $status client=$scim_client';

scim_oauth_key %%DIR%%/key.hex;
scim_oauth_clients %%DIR%%/clients;
scim_redis %%REDIS%%;

server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;

    location = /oauth2/token {
        access_log %%DIR%%/wif.log wif;
        client_body_buffer_size 16k;    # an oversized assertion in memory
        scim_oauth_token;
        scim_oauth_jwks %%DIR%%/jwks.json;
        scim_oauth_jwks %%DIR%%/rot.json;
        scim_oauth_jwks_refresh 1s;
    }

    location = /strict/token {
        scim_oauth_token;
        scim_oauth_jwks %%DIR%%/jwks.json;
        scim_oauth_jwt_leeway 0;
    }

    location = /keys {
        default_type application/json;
        alias %%DIR%%/served.json;
    }

    location = /notjson {
        default_type text/html;
        return 200 "<html>maintenance</html>";
    }

    location /acme/scim/v2/ {
        scim;
        scim_tenant acme;
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
my $URN = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

sub uenc {
    my $s = shift;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub token_req {
    my ($form, %o) = @_;
    return $t->request('POST', $o{path} // '/oauth2/token', body => $form,
        token => undef, ctype => $FORM,
        headers => { Accept => 'application/json', %{ $o{headers} // {} } });
}

# the form Entra posts
sub assert_form {
    my ($jwt, %o) = @_;
    return join '&', 'grant_type=client_credentials',
        (exists $o{client_id} ? (defined $o{client_id}
                                 ? 'client_id=' . uenc($o{client_id}) : ())
                              : ('client_id=app-acme-wif')),
        'client_assertion_type=' . uenc($o{type} // $URN),
        'client_assertion=' . uenc($jwt), 'scope=scim',
        @{ $o{more} // [] };
}

sub granted {
    my ($res, $name) = @_;
    is($res->{status}, 200, "$name: 200") or diag($res->{content});
    my $j = eval { json_decode($res->{content}) } // {};
    is($j->{token_type}, 'Bearer', "$name: token_type Bearer");
    is($res->{headers}{'cache-control'}, 'no-store', "$name: no-store");
    return $j->{access_token};
}

sub refused {
    my ($res, $name, $status, $error) = @_;
    $status //= 401;
    $error //= 'invalid_client';
    is($res->{status}, $status, "$name: $status");
    my $j = eval { json_decode($res->{content}) } // {};
    is($j->{error}, $error, "$name: $error");
    unlike($res->{content} // '', qr/access_token/, "$name: no token");
}

sub users {
    my ($tenant, $tok) = @_;
    return $t->get("/$tenant/scim/v2/Users?count=1", token => $tok);
}

# ---- accepted

my $mark = $t->log_mark;

my $tok = granted(token_req(assert_form(jwt())), 'RS256 with kid');
is(users('acme', $tok)->{status}, 200, 'RS256: its token opens acme');
is(users('globex', $tok)->{status}, 401, "RS256: not globex's");

my $tok_ec = granted(token_req(assert_form(jwt(key => $ec1),
                                           client_id => undef)),
                     'ES256, no client_id (found by iss and sub)');
is(users('acme', $tok_ec)->{status}, 200, 'ES256: its token opens acme');
is(users('globex', $tok_ec)->{status}, 401, "ES256: not globex's");

granted(token_req(assert_form(jwt(header => { kid => undef }))),
        'RS256 without kid: every RSA key tried');
granted(token_req(assert_form(jwt(key => $ec1, header => { kid => undef }))),
        'ES256 without kid');
granted(token_req(assert_form(jwt(sub => $SUB2))),
        'the second jwt line of the client (another sub)');
granted(token_req(assert_form(jwt(aud => [ 'api://other', $AUD ]))),
        'aud as an array containing the audience');
granted(token_req(assert_form(jwt(key => $rsa2, header => { kid => 'r2' }))),
        'a key of the second scim_oauth_jwks file');
granted(token_req(assert_form(jwt(exp => int(time) - 30))),
        'expired 30 s ago: within the default leeway of 60 s');
granted(token_req(assert_form(jwt(nbf => int(time) + 30,
                                  iat => int(time) + 30))),
        'nbf and iat 30 s ahead: within the leeway');
granted(token_req(assert_form(jwt(nbf => undef, iat => undef))),
        'no nbf, no iat');

my $tok_g = granted(token_req(assert_form(jwt(sub => $GSUB,
                                              aud => 'api://globex'),
                                          client_id => 'app-globex')),
                    "globex's client");
is(users('globex', $tok_g)->{status}, 200, "globex's token opens globex");
is(users('acme', $tok_g)->{status}, 401, "globex's token: not acme");

like($t->read_file('wif.log') // '', qr/^POST \/oauth2\/token 200 client=app-acme-wif$/m,
     '$scim_client: the client id of the jwt line');
like($t->read_file('wif.log') // '', qr/ 200 client=app-globex$/m,
     "\$scim_client: globex's client");

# the secret line of the same client still works
granted(token_req('grant_type=client_credentials&client_id=app-acme-wif'
                  . '&client_secret=acme-wif-secret-0123456789'),
        'the secret line of a client that has jwt lines');

# ---- refused

sub tamper {
    my ($jwt, $part, $sub) = @_;
    my @p = split /\./, $jwt, -1;
    $p[$part] = $sub->($p[$part]);
    return join '.', @p;
}

{
    my $good = jwt();
    my $payload = tamper($good, 1, sub {
        my $c = json_decode(decode_base64(do { (my $s = shift) =~ tr{-_}{+/};
                                               $s . '=' x (-length($s) % 4) }));
        $c->{sub} = $GSUB;
        return b64u(json_encode($c));
    });
    refused(token_req(assert_form($payload, client_id => undef)),
            'tampered payload');

    my $sig = tamper($good, 2, sub {
        my $s = shift;
        my $i = int(length($s) / 2);
        substr($s, $i, 1) = substr($s, $i, 1) eq 'A' ? 'B' : 'A';
        return $s;
    });
    refused(token_req(assert_form($sig)), 'tampered signature');

    my $ec = jwt(key => $ec1);
    refused(token_req(assert_form(tamper($ec, 2, sub {
        my $raw = decode_base64(do { (my $s = shift) =~ tr{-_}{+/};
                                     $s . '=' x (-length($s) % 4) });
        substr($raw, 40, 1) = chr(ord(substr($raw, 40, 1)) ^ 1);
        return b64u($raw);
    }))), 'tampered ES256 signature');

    refused(token_req(assert_form(tamper($good, 2, sub { '' }))),
            'the signature removed');
}

refused(token_req(assert_form(jwt(exp => int(time) - 120))),
        'expired 120 s ago');
refused(token_req(assert_form(jwt(exp => int(time) - 30)),
                  path => '/strict/token'),
        'expired 30 s ago, scim_oauth_jwt_leeway 0');
refused(token_req(assert_form(jwt(nbf => int(time) + 300))),
        'nbf in the future');
refused(token_req(assert_form(jwt(iat => int(time) + 300))),
        'iat in the future');
refused(token_req(assert_form(jwt(exp => undef))), 'missing exp');
refused(token_req(assert_form(jwt(exp => "" . (int(time) + 300)))),
        'exp as a string');
refused(token_req(assert_form(jwt(iss => "https://login.microsoftonline.com/"
                                         . "other/v2.0"))), 'wrong iss');
refused(token_req(assert_form(jwt(aud => 'api://somebody-else'))),
        'wrong aud');
refused(token_req(assert_form(jwt(aud => [ 'api://a', 'api://b' ]))),
        'wrong aud array');
refused(token_req(assert_form(jwt(sub => 'someone-else'))), 'wrong sub');
refused(token_req(assert_form(jwt(iss => undef))), 'no iss');
refused(token_req(assert_form(jwt(header => { kid => 'unknown' }))),
        'unknown kid');
refused(token_req(assert_form(jwt(key => $rsa3,
                                  header => { kid => 'enc-key' }))),
        'a key with use "enc" (ignored)');
refused(token_req(assert_form(jwt(key => $rsa3, header => { kid => undef }))),
        'signed by a key not in the JWKS');
refused(token_req(assert_form(jwt(header => { kid => 'e1' }))),
        'RS256 header on an EC key (kid of the EC key)');
refused(token_req(assert_form(jwt(key => $ec1, header => { kid => 'r1' }))),
        'ES256 header on an RSA key');
refused(token_req(assert_form(jwt(sub => $GSUB, aud => 'api://globex'))),
        'client_id not the client of the matching line');
refused(token_req(assert_form(jwt(sub => 'old-sub'), client_id => undef)),
        'an expired jwt line');

{
    my $now = int(time);
    my %c = (iss => $ISS, sub => $SUB, aud => $AUD, exp => $now + 300);
    my $body = b64u(json_encode(\%c));

    refused(token_req(assert_form(b64u(json_encode({ alg => 'none' }))
                                  . ".$body.")), 'alg none, unsigned');
    refused(token_req(assert_form(b64u(json_encode({ alg => 'none',
                                                     kid => 'r1' }))
                                  . ".$body." . b64u('x'))),
            'alg none with a signature');

    my $in = b64u(json_encode({ alg => 'HS256', typ => 'JWT', kid => 'r1' }))
             . ".$body";
    refused(token_req(assert_form("$in." . b64u(hmac_sha256($in,
                                                            $rsa1->{pub})))),
            'HS256 with the RSA public key (PEM) as the HMAC secret');
    $in = b64u(json_encode({ alg => 'HS256' })) . ".$body";
    refused(token_req(assert_form("$in." . b64u(hmac_sha256($in,
                                                            $rsa1->{pub})))),
            'HS256 without kid');

    $in = b64u(json_encode({ alg => 'RS256', kid => 'r1',
                             crit => ['exp'] })) . ".$body";
    refused(token_req(assert_form("$in." . b64u(sign($rsa1, $in)))),
            'a "crit" header');

    $in = b64u(json_encode({ alg => 'RS512', kid => 'r1' })) . ".$body";
    refused(token_req(assert_form("$in." . b64u(sign($rsa1, $in)))),
            'RS512');

    # the signature right, the claims not JSON
    $in = b64u(json_encode({ alg => 'RS256', kid => 'r1' })) . '.'
          . b64u('{"iss": broken');
    refused(token_req(assert_form("$in." . b64u(sign($rsa1, $in)))),
            'signed claims that are not JSON');
    $in = b64u(json_encode({ alg => 'RS256', kid => 'r1' })) . '.'
          . b64u('["a", "b"]');
    refused(token_req(assert_form("$in." . b64u(sign($rsa1, $in)))),
            'signed claims that are an array');
}

refused(token_req(assert_form('garbage')), 'garbage: one part');
refused(token_req(assert_form('a.b')), 'garbage: two parts');
refused(token_req(assert_form(jwt() . '.x')), 'garbage: four parts');
refused(token_req(assert_form('..')), 'garbage: empty parts');
refused(token_req(assert_form('!!!.@@@.###')), 'garbage: not base64url');
refused(token_req(assert_form(b64u('{"alg":') . '.' . b64u('{}') . '.'
                              . b64u('sig'))), 'garbage: header not JSON');
refused(token_req(assert_form(tamper(jwt(), 0, sub { shift() . '=' }))),
        'garbage: padded base64');

{
    my $big = jwt(pad => 'x' x 9000);
    ok(length($big) > 8192 && length($big) < 14000,
       'an oversized assertion: between 8 KB and the body limit');
    refused(token_req(assert_form($big)), 'an oversized assertion');
}

# invalid_request
refused(token_req(assert_form(jwt(),
                              more => ['client_secret=acme-wif-secret-'
                                       . '0123456789'])),
        'both client_secret and client_assertion', 400, 'invalid_request');
refused(token_req(assert_form(jwt(), client_id => undef),
                  headers => { Authorization => 'Basic '
                      . encode_base64('app-acme-wif:acme-wif-secret-'
                                      . '0123456789', '') }),
        'both Basic and client_assertion', 400, 'invalid_request');
refused(token_req(assert_form(jwt(), type => 'urn:ietf:params:oauth:'
                                             . 'client-assertion-type:saml2-bearer')),
        'another client_assertion_type', 400, 'invalid_request');
refused(token_req('grant_type=client_credentials&client_assertion_type='
                  . uenc($URN)), 'client_assertion_type alone', 400,
        'invalid_request');
refused(token_req(assert_form(jwt(), more => ['client_assertion=x'])),
        'client_assertion twice', 400, 'invalid_request');

{
    my $log = $t->log_since($mark);
    for my $re (qr/client assertion's signature does not verify/,
                qr/client assertion expired \d+ s ago/,
                qr/client assertion's "kid" is of no key/,
                qr/client assertion's "alg" is not RS256 or ES256/,
                qr/client assertion of \d+ bytes, more than 8192/,
                qr/client assertion without "exp"/,
                qr/"jwt" line of client "app-old" has expired/,
                qr/client assertion of another client than client_id/,
                qr/"nbf" or "iat" is in the future/,
                qr/"aud" are of no "jwt" client/,
                qr/\[info\].*client "app-acme-wif": client assertion accepted/)
    {
        like($log, $re, "logged at info: $re");
    }
    my $jwt = jwt();
    my ($sig) = $jwt =~ /\.([^.]+)$/;
    unlike($t->error_log, qr/\Q$sig\E/, 'no assertion in the log');
    like($t->error_log, qr/\[notice\].*jwks\.json": key 2 \(kid "o1"\) is ignored: of an unsupported "kty"/,
         'an oct key ignored, at notice');
    like($t->error_log, qr/key 3 \(kid "enc-key"\) is ignored: "use" is not "sig"/,
         'a use "enc" key ignored');
}

# ---- refresh: rot.json replaced by an atomic rename

sub wait_for {
    my ($cond) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        return 1 if $cond->();
        sleep 0.2;
    }
    return 0;
}

sub replace_file {
    my ($name, $content) = @_;
    $t->write_file("$name.tmp", $content);
    rename("$dir/$name.tmp", "$dir/$name") or die "rename: $!";
}

# several requests in a row, whichever worker takes each
sub all_say {
    my ($jwt, $status) = @_;
    for (1 .. 6) {
        return 0 unless token_req(assert_form($jwt))->{status} == $status;
    }
    return 1;
}

# every worker has logged re (for rot.json) since mark
sub every_worker {
    my ($mark, $re) = @_;
    my @pids = $t->worker_pids;
    return 0 unless @pids;
    my $log = $t->log_since($mark);
    for my $pid (@pids) {
        return 0 unless $log =~ /\] $pid#\d+: scim_oauth_jwks "[^"]*rot\.json": $re/;
    }
    return 1;
}

{
    my $by2 = jwt(key => $rsa2, header => { kid => 'r2' });
    my $by3 = jwt(key => $rsa3, header => { kid => 'r3' });
    ok(all_say($by2, 200), 'refresh: r2 accepted before');
    ok(all_say($by3, 401), 'refresh: r3 refused before');

    my $m = $t->log_mark;
    replace_file('rot.json', jwks_json(jwk($rsa3, 'r3')));
    ok(wait_for(sub { every_worker($m, qr/reread, 1 key/) }),
       'refresh: every worker rereads the new file within 10 s, at notice');
    ok(all_say($by3, 200), 'refresh: a key of the new file accepted');
    ok(all_say($by2, 401), 'refresh: the removed key refused');

    $m = $t->log_mark;
    replace_file('rot.json', '{"keys": [ not json');
    ok(wait_for(sub { every_worker($m, qr/not JSON/) }),
       'refresh: a bad new file is logged by every worker');
    ok(all_say($by3, 200), 'refresh: a bad new file keeps the old keys');

    $m = $t->log_mark;
    replace_file('rot.json', jwks_json({ kty => 'oct', k => 'AAAA' }));
    ok(wait_for(sub { every_worker($m, qr/no usable key/) }),
       'refresh: a file without a usable key is logged by every worker');
    ok(all_say($by3, 200), 'refresh: ... and keeps the old keys');

    $m = $t->log_mark;
    replace_file('rot.json', jwks_json(jwk($rsa2, 'r2')));
    ok(wait_for(sub { every_worker($m, qr/reread, 1 key/) }),
       'refresh: back to r2 in every worker');
    ok(all_say($by2, 200), 'refresh: r2 accepted again');
    ok(all_say($by3, 401), 'refresh: r3 refused again');
}

# ---- tools/scim-jwks-fetch

SKIP: {
    skip 'no curl', 9 unless grep { -x "$_/curl" } split /:/, $ENV{PATH};

    my $tool = $t->repo . '/tools/scim-jwks-fetch';
    my $port = $t->port;
    my $target = "$dir/fetched.jwks";
    $t->write_file('fetched.jwks', jwks_json(jwk($rsa1, 'old')));

    my $out = `$tool --allow-http http://127.0.0.1:$port/keys $target 2>&1`;
    is($?, 0, 'fetch: exit 0') or diag($out);
    my $j = eval { json_decode($t->read_file('fetched.jwks')) } // {};
    is($j->{keys}[0]{kid}, 'served', 'fetch: the file replaced');

    my $ino = (stat $target)[1];
    $out = `$tool --allow-http http://127.0.0.1:$port/keys $target 2>&1`;
    is($?, 0, 'fetch again: exit 0') or diag($out);
    is((stat $target)[1], $ino, 'fetch again: the same keys, the file left alone');

    $out = `$tool --allow-http http://127.0.0.1:$port/notjson $target 2>&1`;
    isnt($?, 0, 'fetch: not JSON: exit 1');
    like($out, qr/not JSON/, 'fetch: not JSON: said');
    $j = eval { json_decode($t->read_file('fetched.jwks')) } // {};
    is($j->{keys}[0]{kid}, 'served', 'fetch: not JSON: the old file kept');

    $out = `$tool http://127.0.0.1:$port/keys $target 2>&1`;
    isnt($?, 0, 'fetch: http refused without --allow-http');
    opendir(my $dh, $dir);
    my @left = grep { /^\.fetched\.jwks\./ } readdir $dh;
    is(scalar @left, 0, 'fetch: no temporary file left');
}

# ---- a jwt client removed from the clients file: its tokens refused

{
    my $g = granted(token_req(assert_form(jwt(sub => $GSUB,
                                              aud => 'api://globex'),
                                          client_id => 'app-globex')),
                    "globex's client, before its removal");
    is(users('globex', $g)->{status}, 200, '... its token opens globex');
    my $clients = $t->read_file('clients');
    (my $without = $clients) =~ s/^globex .*\n//m;
    isnt($without, $clients, 'the globex jwt line taken out');
    $t->write_file('clients', $without);
    ok($t->reload(wait_old => 1), 'reload without the globex client');
    my $r = users('globex', $g);
    is($r->{status}, 401, 'the token of the removed jwt client: 401');
    like($r->{headers}{'www-authenticate'} // '', qr/invalid_token/,
         '... invalid_token');
    is(users('acme', $tok)->{status}, 200,
       "acme's jwt client's token still opens acme");
    $t->write_file('clients', $clients);
    ok($t->reload(wait_old => 1), 'the clients file restored');
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
    my ($clients, $jwks) = @_;
    return "scim_oauth_key %%DIR%%/key.hex;\n"
         . "scim_oauth_clients %%DIR%%/$clients;\n"
         . ($jwks ? "scim_oauth_jwks %%DIR%%/$jwks;\n" : '')
         . "server { listen 127.0.0.1:%%PORT%%;\n"
         . "  location = /t { scim_oauth_token; } }\n";
};

nt_fails('jwt line without iss', { c1 => "acme a jwt sub=s aud=a\n" },
         $with->('c1', 'jwks.json'),
         qr{c1": line 1: a "jwt" line needs "iss=", "sub=" and "aud="});
nt_fails('jwt line with an unknown field',
         { c2 => "\nacme a jwt iss=i sub=s aud=a foo=1\n" },
         $with->('c2', 'jwks.json'), qr{c2": line 2: expected "<tenant>});
nt_fails('jwt line with too many fields',
         { c8 => "acme a jwt iss=i sub=s aud=a iss=j sub=t aud=b x=1\n" },
         $with->('c8', 'jwks.json'), qr{c8": line 1: too many fields});
nt_fails('jwt line with a bad date',
         { c3 => "acme a jwt iss=i sub=s aud=a expires=2027-13-01\n" },
         $with->('c3', 'jwks.json'), qr{c3": line 1: expected "expires=});
nt_fails('jwt line with iss twice',
         { c4 => "acme a jwt iss=i iss=j sub=s aud=a\n" },
         $with->('c4', 'jwks.json'), qr{c4": line 1: .*is repeated});
nt_fails('jwt line with a bad tenant',
         { c5 => "ac{me} a jwt iss=i sub=s aud=a\n" },
         $with->('c5', 'jwks.json'), qr{c5": line 1: invalid tenant});
nt_fails('jwt clients without scim_oauth_jwks',
         { c6 => "acme a jwt iss=i sub=s aud=a\n" }, $with->('c6'),
         qr{"jwt" clients in "scim_oauth_clients" need "scim_oauth_jwks"});
nt_fails('JWKS not JSON', { c7 => "acme a jwt iss=i sub=s aud=a\n",
                            'bad1.json' => "<html></html>\n" },
         $with->('c7', 'bad1.json'),
         qr{scim_oauth_jwks ".*bad1\.json": not JSON});
nt_fails('JWKS without keys', { 'bad2.json' => '{"key": []}' },
         $with->('c7', 'bad2.json'),
         qr{scim_oauth_jwks ".*bad2\.json": not a JSON Web Key Set});
nt_fails('JWKS with no usable key',
         { 'bad3.json' => jwks_json({ kty => 'oct', k => 'AAAA' },
                                    jwk($rsa1, 'x', use => 'enc'),
                                    { kty => 'EC', crv => 'P-384',
                                      x => 'AA', y => 'AA' },
                                    { kty => 'EC', crv => 'P-256',
                                      x => b64u('x' x 32),
                                      y => b64u('y' x 32) }) },
         $with->('c7', 'bad3.json'),
         qr{scim_oauth_jwks ".*bad3\.json": no usable key});
nt_fails('JWKS missing', {}, $with->('c7', 'nonexistent.json'),
         qr{scim_oauth_jwks ".*nonexistent\.json"});
nt_fails('JWKS too large', { 'big.json' => '{"keys":[], "x": "'
                                           . ('x' x 300000) . '"}' },
         $with->('c7', 'big.json'), qr{big\.json": larger than 256 KB});
nt_fails('leeway over 10m', {},
         $with->('c7', 'jwks.json') . "scim_oauth_jwt_leeway 11m;\n",
         qr{"scim_oauth_jwt_leeway" must be at most 10m});
{
    my ($ok, $out) = $t->nginx_t($with->('c7', 'jwks.json'));
    ok($ok, 'nginx -t passes: a jwt-only clients file and a JWKS')
        or diag($out);
}
{
    my $ex = $t->repo . '/conf-examples';
    my ($ok, $out) = $t->nginx_t(
        "scim_oauth_key %%DIR%%/key.hex;\n"
        . "scim_oauth_clients $ex/oauth-wif.clients.example;\n"
        . "scim_oauth_jwks $ex/entra.jwks.example;\n"
        . "server { listen 127.0.0.1:%%PORT%%;\n"
        . "  location = /t { scim_oauth_token; } }\n");
    ok($ok, 'nginx -t passes: conf-examples/oauth-wif.clients.example and '
            . 'entra.jwks.example') or diag($out);
    unlike($out, qr/is ignored/, 'entra.jwks.example: every key is usable');
}

$t->finish;

#!/usr/bin/perl

# Bearer tokens: checked before anything else; missing, wrong, malformed
# -> 401 + SCIM error + WWW-Authenticate: Bearer; plain and sha256: lines;
# '#' comments and blank lines; no token in the logs.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use ScimTest;

my $t = ScimTest->new(workers => 2);

my $plain  = 'plain-' . sha256_hex("p$$" . rand());
my $hashed = 'hashed-' . sha256_hex("h$$" . rand());
my $upper  = 'upperhex-' . sha256_hex("u$$" . rand());
my $crlf   = 'crlf-' . sha256_hex("c$$" . rand());
my $wrong  = 'wrong-' . sha256_hex("w$$" . rand());

$t->write_file('tokens', join('',
    "# SCIM tokens for acme\n",
    "\n",
    "   # indented comment\n",
    "$plain\n",
    "sha256:" . sha256_hex($hashed) . "\n",
    "sha256:" . uc(sha256_hex($upper)) . "\n",
    "$crlf\r\n",
));

$t->token($plain);      # the default for requests below
$t->write_config($t->standard_conf);
$t->start_nginx_ok;

my $filter = 'Users?' . entra_filter_qs('userName', 'nobody@example.com');

sub is_401 {
    my ($res, $name) = @_;
    is_scim_error($res, 401, undef, "$name: 401 SCIM error");
    like($res->{headers}{'www-authenticate'} // '', qr/^Bearer\b/i,
         "$name: WWW-Authenticate: Bearer");
}

# ---- rejected

is_401($t->get($filter, token => undef), 'no Authorization');
is_401($t->get($filter, token => $wrong), 'wrong token');
is_401($t->get($filter, token => ''), 'empty bearer token');
is_401($t->get($filter, token => undef,
               headers => { Authorization => 'Bearer' }),
       '"Bearer" without a token');
is_401($t->get($filter, token => undef,
               headers => { Authorization => 'Basic ' . 'dXNlcjpwYXNz' }),
       'Basic credentials');
is_401($t->get($filter, token => undef,
               headers => { Authorization => $plain }),
       'the token without the Bearer scheme');
is_401($t->get($filter, token => substr($plain, 0, -1)), 'a prefix of a token');
is_401($t->get($filter, token => $plain . 'x'), 'a token plus one character');
is_401($t->get($filter, token => uc $plain), 'the token in upper case');
is_401($t->get($filter, token => 'sha256:' . sha256_hex($hashed)),
       'the literal sha256: line');
is_401($t->get($filter, token => sha256_hex($hashed)), 'the sha256 hex alone');
is_401($t->get($filter, token => '# SCIM tokens for acme'), 'a comment line');
is_401($t->get($filter, token => '#'), 'a lone #');

# ---- accepted

is_list_response($t->get($filter, token => $plain), 0, 0, 'plain token line');
is_list_response($t->get($filter, token => $hashed), 0, 0,
                 'sha256:<hex> line matches the token');
is_list_response($t->get($filter, token => undef,
                         headers => { Authorization => "bearer $plain" }),
                 0, 0, 'scheme name is case-insensitive (RFC 7235)');
is_list_response($t->get($filter, token => $upper), 0, 0,
                 'sha256: line with upper-case hex');
is_list_response($t->get($filter, token => $crlf), 0, 0,
                 'token line ending in CRLF (file edited on Windows)');

# ---- auth comes before anything else

my $id = 'does-not-exist';
is_401($t->post('Users', '{"schemas": [', token => undef),
       'malformed JSON without a token');
is_401($t->post('Users', entra_user(), token => $wrong), 'valid POST, wrong token');
is_401($t->get("Users/$id", token => undef), 'GET unknown id without a token');
is_401($t->request('PUT', "Users/$id", body => entra_user(), token => undef),
       'PUT without a token');
is_401($t->patch("Users/$id", patch_body(), token => undef),
       'PATCH without a token');
is_401($t->delete("Users/$id", token => undef), 'DELETE without a token');
is_401($t->get('NoSuchResource', token => undef), 'unknown endpoint without a token');
is_401($t->get('Users?filter=' . uri_escape('((('), token => undef),
       'bad filter without a token');
is_401($t->get('Users?aadOptscim062020', token => $wrong),
       'Tenant URL flag, wrong token');

# nothing was created by the rejected POSTs
is_list_response($t->list(count => 0), 0, undef,
                 'no user created by unauthenticated requests');

# a good token works on every method
my $r = $t->post('Users', entra_user(), token => $hashed);
is_scim_json($r, 201, 'POST with the hashed token');
$id = $r->{json}{id} // 'none';
is_scim_json($t->get("Users/$id", token => $plain), 200, 'GET with the plain token');
is($t->delete("Users/$id", token => $plain)->{status}, 204, 'DELETE with the plain token');

# the per-worker table of token digests (64 slots): 300 other tokens
# interleaved with the right one collide with it and with each other;
# each is still answered for itself

{
    my ($bad, $good) = (0, 0);
    for my $i (1 .. 300) {
        my $other = sprintf('collide-%04d-0123456789abcdef', $i);
        $bad++ if $t->get($filter, token => $other)->{status} == 401;
        $good++ if $t->get($filter, token => $plain)->{status} == 200;
    }
    is($bad, 300, 'the token table: 300 other tokens, each refused');
    is($good, 300, '... the right one, between them, accepted each time');
}

# ---- no token in the logs

ok($t->stop_nginx, 'nginx stopped gracefully');
my $logs = $t->error_log . ($t->read_file('access.log') // '');
for my $tok ([$plain, 'plain'], [$hashed, 'hashed'], [$wrong, 'wrong']) {
    unlike($logs, qr/\Q$tok->[0]\E/, "the $tok->[1] token is in no log");
}

$t->finish;

#!/usr/bin/perl

# Directives: every one accepted with a good value; config errors make
# `nginx -t` fail with a message naming the file or the problem; http/
# server level values inherited by a location that only says "scim;";
# the default tenant "default".

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1, ports => 2);
my $dir = $t->dir;

my $ext_urn = 'urn:ietf:params:scim:schemas:extension:Acme:2.0:User';
my $ext = $t->write_file('ext.json',
    ext_schema($ext_urn, 'AcmeUser', qw(badge floor)));
my $ext2 = $t->write_file('ext2.json',
    ext_schema('urn:ietf:params:scim:schemas:extension:Other:2.0:User',
               'OtherUser', qw(costCode)));

# a config whose single SCIM location holds $loc
sub conf {
    my ($loc, $server) = @_;
    $server //= '';
    return <<"EOF";
server {
    listen 127.0.0.1:%%PORT%%;
    $server
    location /scim/v2/ {
        $loc
    }
}
EOF
}

my $all = <<"EOF";
scim;
        scim_redis %%REDIS%%;
        scim_redis_password secret;
        scim_redis_db 0;
        scim_redis_connections 2;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_schema_extension $ext;
        scim_schema_extension $ext2;
        scim_base_url https://scim.example.com/scim/v2;
        scim_max_results 200;
EOF

my ($ok, $out) = $t->nginx_t(conf($all));
ok($ok, 'nginx -t: every directive with a good value') or diag $out;
like($out, qr/test is successful/, 'nginx -t says successful');

($ok, $out) = $t->nginx_t(conf(<<'EOF'));
scim;
        scim_redis unix:%%DIR%%/redis.sock;
        scim_tenant $host;
        scim_bearer_token_file %%TOKEN_FILE%%;
EOF
ok($ok, 'nginx -t: unix socket address and scim_tenant $host') or diag $out;

# ---- config errors: nginx -t fails, the message names file/problem

sub fails_naming {
    my ($loc, $what, $name, $server) = @_;
    my ($ok, $out) = $t->nginx_t(conf($loc, $server));
    ok(!$ok, "nginx -t fails: $name");
    like($out, $what, "... message names it ($name)");
}

my $missing = "$dir/no-such-tokens-file";
fails_naming(<<"EOF", qr/\Q$missing\E/, 'token file missing');
scim; scim_redis %%REDIS%%; scim_bearer_token_file $missing;
EOF

mkdir "$dir/tokdir";
fails_naming(<<"EOF", qr/\Q$dir\E\/tokdir.*is a directory/,
scim; scim_redis %%REDIS%%; scim_bearer_token_file $dir/tokdir;
EOF
             'token file is a directory');

SKIP: {
    skip 'root reads any file', 2 if $> == 0;
    my $f = $t->write_file('unreadable-tokens', "x\n", 0000);
    fails_naming(<<"EOF", qr/\Q$f\E/, 'token file unreadable (mode 000)');
scim; scim_redis %%REDIS%%; scim_bearer_token_file $f;
EOF
}

my $nosch = "$dir/no-such-schema.json";
fails_naming(<<"EOF", qr/\Q$nosch\E/, 'schema file missing');
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_schema_extension $nosch;
EOF

my $bad = $t->write_file('bad-json.json',
    qq({"id": "urn:ietf:params:scim:schemas:extension:Bad:2.0:User",\n "attributes": [ {"name": "x", ));
fails_naming(<<"EOF", qr/\Q$bad\E/, 'schema file with invalid JSON');
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_schema_extension $bad;
EOF

my $notschema = $t->write_file('not-a-schema.json', qq({"foo": 1}\n));
fails_naming(<<"EOF", qr/\Q$notschema\E/, 'schema file: JSON but not a schema (no id, no attributes)');
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_schema_extension $notschema;
EOF

my $arr = $t->write_file('array.json', qq([]\n));
fails_naming(<<"EOF", qr/\Q$arr\E/, 'schema file: a JSON array');
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_schema_extension $arr;
EOF

for my $addr ('127.0.0.1:99999', '127.0.0.1:', '127.0.0.1:abc', 'unix:',
              '1.2.3.4.5:6379', ':6379')
{
    fails_naming(<<"EOF", qr/\Q$addr\E|scim_redis/, "bad redis address '$addr'");
scim; scim_redis $addr; scim_bearer_token_file %%TOKEN_FILE%%;
EOF
}

fails_naming('', qr/"scim" directive is not allowed here|not allowed/,
    'scim; at server level', 'scim;');
fails_naming(<<'EOF', qr/scim/, 'scim with two arguments');
scim foo bar; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
EOF

for my $d ('scim_redis_timeout abc', 'scim_redis_connect_timeout -1s',
           'scim_max_results abc', 'scim_redis_db abc',
           'scim_redis_connections abc')
{
    my ($name) = $d =~ /^(\S+)/;
    fails_naming(<<"EOF", qr/\Q$name\E|invalid/, "invalid value: $d");
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        $d;
EOF
}

fails_naming(<<'EOF', qr/no_such_variable_xyz/, 'scim_tenant with an unknown variable');
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_tenant $no_such_variable_xyz;
EOF

{
    my $f = $t->write_file('bad-sha-tokens', "sha256:nothex\n");
    fails_naming(<<"EOF", qr/\Q$f\E/, 'token file with a malformed sha256: line');
scim; scim_redis %%REDIS%%; scim_bearer_token_file $f;
EOF
}

# ---- loud configuration: mistakes that used to fail only per request

my $long_tenant = 'T' x 257;
for my $c (['""', 'an empty literal scim_tenant'],
           [$long_tenant, 'a literal scim_tenant of 257 characters'],
           ['"ac{me}"', 'a literal scim_tenant holding { and }'],
           ['"acme}"', 'a literal scim_tenant holding }'])
{
    fails_naming(<<"EOF", qr/invalid tenant .* in \S+:\d+/, $c->[1]);
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_tenant $c->[0];
EOF
}

($ok, $out) = $t->nginx_t(conf(<<"EOF"));
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_tenant ${\ ('T' x 256)};
EOF
ok($ok, 'nginx -t: a literal scim_tenant of 256 characters is fine')
    or diag $out;

for my $u ('scim.example.com/scim/v2', 'ftp://scim.example.com/scim/v2',
           'https://', 'https:///scim/v2', '/scim/v2')
{
    fails_naming(<<"EOF", qr/invalid base URL .* in \S+:\d+/, "scim_base_url $u");
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_base_url $u;
EOF
}

for my $u ('HTTPS://scim.example.com/scim/v2', '$scheme://$host/scim/v2') {
    ($ok, $out) = $t->nginx_t(conf(<<"EOF"));
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_base_url $u;
EOF
    ok($ok, "nginx -t: scim_base_url $u") or diag $out;
}

for my $line ("Bearer 0123456789abcdef0123456789abcdef\n",
              "bearer sha256:" . ('ab' x 32) . "\n")
{
    my $f = $t->write_file('bearer-tokens', "# tokens\n$line");
    fails_naming(<<"EOF", qr/\Q$f\E.*line 2.*without "Bearer "/,
scim; scim_redis %%REDIS%%; scim_bearer_token_file $f;
EOF
        'a token line written as "Bearer <token>"');
}

mkdir "$dir/clientsdir";
fails_naming(<<"EOF", qr/\Q$dir\E\/clientsdir.*is a directory/,
scim; scim_redis %%REDIS%%; scim_bearer_token_file %%TOKEN_FILE%%;
        scim_oauth_clients $dir/clientsdir;
EOF
    'scim_oauth_clients names a directory');

# ---- a running server: inheritance from http/server, default tenant

$t->write_config(<<"EOF");
scim_redis %%REDIS%%;
scim_bearer_token_file %%TOKEN_FILE%%;
scim_redis_timeout 2s;

server {
    listen 127.0.0.1:%%PORT%%;
    scim_tenant inherited;
    scim_schema_extension $ext;

    location /scim/v2/ {
        scim;
    }

    location /plain/ {
        return 200 "not scim\\n";
    }
}

server {
    listen 127.0.0.1:%%PORT2%%;

    location /scim/v2/ {
        scim;
    }
}
EOF
$t->start_nginx_ok('nginx starts with http/server-level directives');

my $r = $t->post('Users', { schemas => [URN_USER, $ext_urn],
                            userName => 'inherit@example.com',
                            $ext_urn => { badge => 'B-17' } });
is_scim_json($r, 201, 'POST via a location with only "scim;"');
my $id = $r->{json}{id} // 'none';
ok(defined $t->redis_cmd('HGET', "scim:{inherited}:User:docs", $id),
   'stored under the server-level tenant "inherited"');
is(scim_get_path($r->{json}, "$ext_urn:badge"), 'B-17',
   'server-level scim_schema_extension applies');

is($t->get('/plain/')->{content}, "not scim\n",
   'a non-SCIM location of the same server is untouched');

# the default tenant: no scim_tenant at any level
$r = $t->post('Users', entra_user(userName => 'dflt@example.com'),
              port => $t->port(2));
is_scim_json($r, 201, 'POST in a location without scim_tenant');
$id = $r->{json}{id} // 'none';
ok(defined $t->redis_cmd('HGET', "scim:{default}:User:docs", $id),
   'stored under the default tenant "default"');
ok($t->redis_cmd('ZSCORE', 'scim:{default}:User:ids', $id),
   'id in scim:{default}:User:ids');

$t->finish;

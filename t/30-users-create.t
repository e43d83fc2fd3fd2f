#!/usr/bin/perl

# POST /Users: 201 + id + meta + Location/ETag; uniqueness (409,
# case-insensitive); required and typed values (400 invalidValue); schemas
# without the core URN (400 invalidSyntax); what Entra really sends (Q2,
# Q10, Q12); read-only values ignored; password hashed, never returned;
# meta.location from the Host header or scim_base_url; body transports.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Digest::SHA qw(sha256_hex sha256_base64 sha256);
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;

$t->write_config($t->standard_conf(server_extra => <<'EOF'));
    location /b/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_base_url https://scim.example.com/scim/v2;
    }
EOF
$t->start_nginx_ok;

my $T = 'acme';
sub ncount { $t->redis_cmd('ZCARD', "scim:{$T}:User:ids") // -1 }

# ---------------------------------------------------------------- create

my $pw = 'Clear-Pa55word-' . int(rand(1e9));
my $un = 'Alice.Smith@Example.com';
my $body = entra_user(userName => $un, displayName => 'Alice Smith',
                      title => 'Engineer', password => $pw,
                      externalId => 'alice-ext-1');
my $r = $t->post('Users', $body);
is_scim_json($r, 201, 'POST /Users with an Entra body -> 201');
my $u = $r->{json} // {};
my $id = $u->{id};
ok(defined $id && !ref $id && length $id, 'server-assigned id');
$id //= 'none';
ok((grep { $_ eq URN_USER } @{ $u->{schemas} // [] }), 'schemas lists the core User URN');
is($u->{userName}, $un, 'userName as sent (case kept)');
is($u->{externalId}, 'alice-ext-1', 'externalId');
is($u->{displayName}, 'Alice Smith', 'displayName');
is($u->{title}, 'Engineer', 'title');
ok(is_jtrue($u->{active}), 'active is JSON true');
is(scim_get_path($u, 'emails[type eq "work"].value'), $un, 'work email');
ok(is_jtrue(scim_get_path($u, 'emails[type eq "work"].primary')), 'email primary true');
is_deeply($u->{name}, { formatted => 'Given Family', familyName => 'Family',
                        givenName => 'Given' }, 'name as sent');

my $m = $u->{meta} // {};
is($m->{resourceType}, 'User', 'meta.resourceType User');
ok(iso8601_ok($m->{created}), 'meta.created is an ISO 8601 dateTime')
    or diag explain $m;
ok(iso8601_ok($m->{lastModified}), 'meta.lastModified is an ISO 8601 dateTime');
my $ce = iso8601_epoch($m->{created});
ok(defined $ce && abs($ce - time) < 300, 'meta.created is now (UTC)')
    or diag "created $m->{created}, now " . time;
is($m->{location}, "http://127.0.0.1:$port/scim/v2/Users/$id",
   'meta.location = absolute URL from Host');
like($m->{version} // '', qr/^W\/"[^"]+"$/, 'meta.version is W/"..."');
is($r->{headers}{location}, $m->{location}, 'Location header == meta.location');
is($r->{headers}{etag}, $m->{version}, 'ETag header == meta.version');
ok(!exists $u->{password}, 'no password in the 201 body');
unlike($r->{content}, qr/\Q$pw\E/, 'clear password nowhere in the 201 body');
unlike($r->{content}, qr/:\s*null\b/, 'no null values in the response');

# GET returns the same resource
$r = $t->get("Users/$id");
is_scim_json($r, 200, 'GET the new user');
is($r->{json}{userName}, $un, 'GET userName');
ok(!exists $r->{json}{password}, 'GET: no password');
unlike($r->{content}, qr/\Q$pw\E/, 'GET: clear password nowhere');
is($r->{headers}{etag}, $m->{version}, 'GET ETag == meta.version of the POST');
is($r->{json}{meta}{created}, $m->{created}, 'GET meta.created unchanged');
$r = $t->list(filter => qq(userName eq "$un"));
unlike($r->{content}, qr/\Q$pw\E/, 'list: clear password nowhere');
ok(!exists(($r->{json}{Resources} // [{}])->[0]{password}), 'list: no password');

# Redis: the key layout and no clear password
my $stored = $t->redis_cmd('HGET', "scim:{$T}:User:docs", $id);
ok(defined $stored, "scim:{$T}:User:docs holds the resource");
my $sj = json_decode($stored // '') // {};
is($sj->{userName}, $un, 'stored JSON has the userName');
unlike($stored // '', qr/\Q$pw\E/, 'stored JSON does not contain the clear password');
my $hex = sha256_hex($pw);
my $b64 = sha256_base64($pw);
unlike($stored // '', qr/\Q$hex\E|\Q$b64\E/i, 'nor its unsalted sha256');
# salted: two users with the same password store different hashes
{
    my @docs;
    for my $k (1, 2) {
        my $res = $t->post('Users', { schemas => [URN_USER], userName => "salt$k\@example.com",
                                      password => $pw });
        my $d = json_decode($t->redis_cmd('HGET', "scim:{$T}:User:docs", $res->{json}{id} // '') // '') // {};
        delete @$d{qw(id userName meta)};
        push @docs, json_encode($d);
    }
    isnt($docs[0], $docs[1], 'the same password stored differently for two users (salted hash)');
    unlike($docs[0], qr/\Q$pw\E/, '... and never in clear');
}
ok($t->redis_cmd('ZSCORE', "scim:{$T}:User:ids", $id), 'id in the ids zset');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", lc $un), $id,
   'idx:userName maps the lower-cased userName to the id');
is_deeply($t->redis_ext_ids("scim:{$T}:", 'User', 'alice-ext-1'), [$id],
   'idx:externalId maps externalId to the id');
is(ncount(), 3, 'three users stored');

# ------------------------------------------------------------ uniqueness

is_scim_error($t->post('Users', entra_user(userName => $un)), 409, 'uniqueness',
              'same userName -> 409 uniqueness');
is_scim_error($t->post('Users', entra_user(userName => uc $un)), 409, 'uniqueness',
              'userName differing in case -> 409 uniqueness');
is_scim_error($t->post('Users', entra_user(userName => lc $un)), 409, 'uniqueness',
              'lower-case userName -> 409 uniqueness');
is(ncount(), 3, 'no user added by the 409s');

# ------------------------------------------------- required, types, schemas

my $n0 = ncount();
my @bad = (
    [ 'missing userName', { schemas => [URN_USER], displayName => 'x' }, 'invalidValue' ],
    [ 'userName null', { schemas => [URN_USER], userName => undef }, 'invalidValue' ],
    [ 'userName a number', { schemas => [URN_USER], userName => 123 }, 'invalidValue' ],
    [ 'userName an array', { schemas => [URN_USER], userName => ['a@b'] }, 'invalidValue' ],
    [ 'userName an object', { schemas => [URN_USER], userName => { v => 1 } }, 'invalidValue' ],
    [ 'active "maybe"', entra_user(active => 'maybe'), 'invalidValue' ],
    [ 'active a number', entra_user(active => 1), 'invalidValue' ],
    [ 'name a string', entra_user(name => 'Given Family'), 'invalidValue' ],
    [ 'emails a string', entra_user(emails => 'a@example.com'), 'invalidValue' ],
    [ 'email value a number', entra_user(emails => [{ type => 'work', value => 5 }]), 'invalidValue' ],
    [ 'email primary "yes"', entra_user(emails => [{ value => 'a@b.c', primary => 'yes' }]), 'invalidValue' ],
    [ 'displayName an object', entra_user(displayName => {}), 'invalidValue' ],
    [ 'enterprise employeeNumber a number',
      entra_user(URN_ENT() => { employeeNumber => 5 }), 'invalidValue' ],
    [ 'schemas without the core URN', { schemas => [URN_ENT], userName => 'x@y.z' }, 'invalidSyntax' ],
    [ 'schemas missing', { userName => 'x@y.z' }, 'invalidSyntax' ],
    [ 'schemas empty', { schemas => [], userName => 'x@y.z' }, 'invalidSyntax' ],
    [ 'schemas only the Group URN', { schemas => [URN_GROUP], userName => 'x@y.z' }, 'invalidSyntax' ],
);
for my $b (@bad) {
    is_scim_error($t->post('Users', $b->[1]), 400, $b->[2], "$b->[0] -> 400 $b->[2]");
}
is_scim_error($t->post('Users', { schemas => URN_ENT, userName => 'x@y.z' }), 400,
              'invalidSyntax', 'schemas a string without the core URN -> 400 invalidSyntax');
is(ncount(), $n0, 'nothing stored by the 400s');

# ------------------------------------------------------- what Entra sends

# Q10: typo URN, unknown URN, undeclared enterprise block, nulls, meta,
# roles: []
$r = $t->post('Users', {
    schemas => [URN_USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0User',
                'urn:ietf:params:scim:schemas:extension:Unknown:2.0:User'],
    userName => 'q10@example.com',
    externalId => 'q10',
    active => jtrue,
    displayName => undef,
    nickName => undef,
    addresses => undef,
    phoneNumbers => undef,
    meta => { resourceType => 'User' },
    roles => [],
    name => { givenName => 'Q', familyName => undef },
    URN_ENT() => { department => 'Sales', employeeNumber => 'E-10', manager => undef },
});
is_scim_json($r, 201, 'Q10 body (extra URNs, undeclared extension, nulls, meta, roles: [])');
$u = $r->{json} // {};
is(scim_get_path($u, URN_ENT . ':department'), 'Sales', 'undeclared enterprise block kept');
is(scim_get_path($u, URN_ENT . ':employeeNumber'), 'E-10', 'enterprise employeeNumber');
ok((grep { $_ eq URN_ENT } @{ $u->{schemas} // [] }), 'response schemas lists the enterprise URN');
ok(!defined $u->{displayName} && !defined $u->{addresses}, 'null = absent');
ok(!defined scim_get_path($u, URN_ENT . ':manager'), 'manager: null = absent');
is($u->{name}{givenName}, 'Q', 'name.givenName kept');
ok(!exists $u->{name}{familyName}, 'name.familyName null = absent');
unlike($r->{content}, qr/:\s*null\b/, 'no null values in the response');

# Q12 + Q2: attribute names in any case, booleans as strings
$r = $t->post('Users', {
    Schemas => [URN_USER],
    UserName => 'case@example.com',
    DisplayName => 'Case Test',
    Active => 'True',
    Name => { GivenName => 'Ca', FamilyName => 'Se' },
    Emails => [{ Primary => 'True', Type => 'work', Value => 'case@example.com' }],
    Roles => [{ Primary => 'False', Type => 'WindowsAzureActiveDirectoryRole',
                Value => 'Reader', Display => 'Reader' }],
});
is_scim_json($r, 201, 'Q12: attribute names in other cases');
$u = $r->{json} // {};
is($u->{userName}, 'case@example.com', 'UserName -> userName');
is($u->{displayName}, 'Case Test', 'DisplayName -> displayName');
ok(is_jtrue($u->{active}), 'Active "True" -> active true (boolean)');
is($u->{name}{givenName}, 'Ca', 'Name.GivenName -> name.givenName');
is(scim_get_path($u, 'emails[type eq "work"].value'), 'case@example.com',
   'Emails[].Value -> emails[].value');
ok(is_jtrue(scim_get_path($u, 'emails[type eq "work"].primary')),
   'Primary "True" -> primary true');
ok(is_jfalse(($u->{roles} // [{}])->[0]{primary}), 'role Primary "False" -> false');
is(($u->{roles} // [{}])->[0]{value}, 'Reader', 'role value');
ok(!exists $u->{UserName} && !exists $u->{DisplayName}, 'no non-canonical names in the output');

# Q2 in POST: "False" and "true"
$r = $t->post('Users', entra_user(userName => 'inactive@example.com', active => 'False'));
is_scim_json($r, 201, 'active "False"');
my $inactive = $r->{json}{id} // 'none';
ok(is_jfalse($r->{json}{active}), 'active "False" -> false');
$r = $t->post('Users', entra_user(userName => 'lower-true@example.com', active => 'true'));
ok(is_jtrue($r->{json}{active}), 'active "true" -> true');

# inactive users stay visible
$r = $t->get("Users/$inactive");
is_scim_json($r, 200, 'inactive user: GET 200');
ok(is_jfalse($r->{json}{active}), 'inactive user: active false');
is_list_response($t->list(filter => 'userName eq "inactive@example.com"'), 1, 1,
                 'inactive user found by filter');

# read-only values from the client are ignored
$r = $t->post('Users', entra_user(
    userName => 'ro@example.com',
    id => 'client-chosen-id',
    meta => { resourceType => 'Group', created => '2001-01-01T00:00:00Z',
              lastModified => '2001-01-01T00:00:00Z', version => 'W/"999"',
              location => 'https://evil.example/Users/x' },
    groups => [{ value => 'g1', display => 'Group 1' }],
));
is_scim_json($r, 201, 'POST with id, meta, groups from the client');
$u = $r->{json} // {};
isnt($u->{id}, 'client-chosen-id', 'client id ignored');
is($u->{meta}{resourceType}, 'User', 'client meta.resourceType ignored');
isnt($u->{meta}{created}, '2001-01-01T00:00:00Z', 'client meta.created ignored');
isnt($u->{meta}{version}, 'W/"999"', 'client meta.version ignored');
is($u->{meta}{location}, "http://127.0.0.1:$port/scim/v2/Users/" . ($u->{id} // ''),
   'client meta.location ignored');
ok(!grep({ ($_->{value} // '') eq 'g1' } @{ $u->{groups} // [] }),
   'client groups (readOnly) ignored');
is_scim_error($t->get('Users/client-chosen-id'), 404, undef, 'no user under the client id');

# manager on POST: a string id, or [{"$ref", "value"}]; returned as object
my $boss = $t->post('Users', entra_user(userName => 'boss@example.com',
                                        displayName => 'The Boss'))->{json} // {};
my $bid = $boss->{id} // 'none';
for my $shape ([ 'string id', $bid ],
               [ '[{$ref, value}]', [{ '$ref' => "http://x/Users/$bid", value => $bid }] ],
               [ '{value}', { value => $bid } ])
{
    $r = $t->post('Users', entra_user(URN_ENT() => { manager => $shape->[1] }));
    is_scim_json($r, 201, "POST manager as $shape->[0]");
    my $mg = scim_get_path($r->{json}, URN_ENT . ':manager');
    is_deeply($mg, { value => $bid, '$ref' => "http://127.0.0.1:$port/scim/v2/Users/$bid",
                     displayName => 'The Boss' },
              "manager ($shape->[0]) returned as {value, \$ref, displayName}")
        or diag explain $mg;
}

# roles from Entra's POST (Q7)
$r = $t->post('Users', entra_user(roles => [{ primary => 'True',
    type => 'WindowsAzureActiveDirectoryRole', value => 'Admin', display => 'Admin' }]));
is_scim_json($r, 201, 'POST with a primary role');
ok(is_jtrue(scim_get_path($r->{json}, 'roles[primary eq "True"].primary')),
   'role primary "True" -> true');
is(scim_get_path($r->{json}, 'roles[primary eq "True"].value'), 'Admin', 'role value');

# ---------------------------------------------------- meta.location bases

$r = $t->post('Users', entra_user(), host => 'scim.example.test:8443');
is_scim_json($r, 201, 'POST with Host: scim.example.test:8443');
my $hid = $r->{json}{id} // 'none';
is($r->{json}{meta}{location}, "http://scim.example.test:8443/scim/v2/Users/$hid",
   'meta.location uses the Host header with its port');
is($r->{headers}{location}, $r->{json}{meta}{location}, 'Location header too');
$r = $t->get("Users/$hid", host => 'scim.example.test');
is($r->{json}{meta}{location}, "http://scim.example.test/scim/v2/Users/$hid",
   'Host without port -> no port in meta.location');

$r = $t->post('/b/scim/v2/Users', entra_user(URN_ENT() => { manager => $bid }));
is_scim_json($r, 201, 'POST in the location with scim_base_url');
my $bbid = $r->{json}{id} // 'none';
is($r->{json}{meta}{location}, "https://scim.example.com/scim/v2/Users/$bbid",
   'scim_base_url overrides the base of meta.location');
is($r->{headers}{location}, $r->{json}{meta}{location}, 'and of the Location header');
is(scim_get_path($r->{json}, URN_ENT . ':manager.$ref'),
   "https://scim.example.com/scim/v2/Users/$bid", 'and of manager.$ref');

# ------------------------------------------------------ paths and bodies

is_scim_json($t->post('/scim/v2/Users/', entra_user()), 201, 'POST /Users/ (trailing slash)');
is_scim_json($t->post('Users?aadOptscim062020', entra_user()), 201,
             'POST /Users?aadOptscim062020 (Q19)');
is_scim_json($t->post('Users', entra_user(), ctype => 'application/json'), 201,
             'Content-Type: application/json accepted');
is_scim_json($t->post('Users', entra_user(),
                      ctype => 'application/scim+json; charset=utf-8'), 201,
             'Content-Type with charset accepted');
is_scim_json($t->post('Users', entra_user(), chunked => 1), 201,
             'chunked request body');
is_scim_json($t->post('Users', entra_user(),
                      headers => { Expect => '100-continue' }), 201,
             'Expect: 100-continue');

# a body larger than client_body_buffer_size (nginx buffers it to a file)
my @many = map { { type => "t$_", value => "addr$_\@example.com" } } 1 .. 400;
my $bigname = unique_name('big');
$r = $t->post('Users', entra_user(userName => $bigname, emails => \@many,
                                  title => 'x' x 20000));
is_scim_json($r, 201, 'POST of a ~50 KB body (request body in a temp file)');
is(scalar @{ $r->{json}{emails} // [] }, 400, 'all 400 emails stored');
is(length($r->{json}{title} // ''), 20000, 'the 20000-character title intact');

# UTF-8
my $uni = 'Zoë.Ñúñez@例え.jp';
$r = $t->post('Users', entra_user(userName => $uni, displayName => 'Zoë Ñúñez ☃'));
is_scim_json($r, 201, 'non-ASCII userName');
is($r->{json}{userName}, $uni, 'non-ASCII userName unchanged');
is($r->{json}{displayName}, 'Zoë Ñúñez ☃', 'non-ASCII displayName unchanged');
is_list_response($t->list(filter => qq(userName eq "$uni")), 1, 1,
                 'non-ASCII userName found by filter');
is_scim_error($t->post('Users', entra_user(userName => 'ZOË.ÑÚÑEZ@例え.JP')), 409,
              'uniqueness', 'non-ASCII userName in upper case -> 409 (case folding)');

# ids: version 4 UUIDs, never the same twice, from both workers (their
# random bytes come from OpenSSL 1 KB at a time: 64 ids a batch, so 240
# creates cross several batches in each worker); a repeated id would be
# a 503 "id collision"
my $ids = $t->parallel(4, sub {
    my $i = shift;
    my @got;
    for my $k (1 .. 60) {
        my $r = $t->post('Users', { schemas => [URN_USER],
                                    userName => "idbatch-$i-$k\@example.com" },
                         keepalive => 0);
        push @got, $r->{status} == 201 ? ($r->{json}{id} // 'none')
                                        : "HTTP $r->{status}";
    }
    return \@got;
});
my @ids = map { @{ $_ // [] } } @$ids;
is(scalar @ids, 240, '240 creates from 4 clients');
is_deeply([grep { !/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/ } @ids],
          [], '... each answered 201 with a version 4 UUID');
my %n;
$n{$_}++ for @ids;
is(scalar(grep { $n{$_} > 1 } keys %n), 0, '... no id twice');

$t->finish;

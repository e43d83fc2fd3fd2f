#!/usr/bin/perl

# PUT /Users/{id} replaces (id and meta.created kept, version and
# lastModified move, indexes follow); DELETE -> 204, then 404, userName
# and externalId free again, Redis keys gone.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $T = 'acme';

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

# ------------------------------------------------------------------- PUT

my $un = 'carol@example.com';
my $orig = $t->create_user(entra_user(userName => $un, externalId => 'carol-ext',
    displayName => 'Carol', title => 'Boss', nickName => 'CC',
    phoneNumbers => [{ type => 'work', value => '+1 555 0100' }]))->{json} // {};
my $id = $orig->{id} // 'none';
sleep 1.1;          # so that lastModified can move on a 1-second clock

my $pw = 'Put-Secret-' . int(rand(1e9));
my $r = $t->put("Users/$id", {
    schemas => [URN_USER, URN_ENT],
    id => 'other-id',
    userName => $un,
    externalId => 'carol-ext',
    displayName => 'Carol Replaced',
    active => 'False',
    password => $pw,
    emails => [{ type => 'home', value => 'carol@home.example' }],
    meta => { created => '2001-01-01T00:00:00Z' },
    URN_ENT() => { department => 'R&D' },
});
is_scim_json($r, 200, 'PUT /Users/{id} -> 200 with the resource');
my $u = $r->{json} // {};
is($u->{id}, $id, 'id kept (the body id is ignored)');
is($u->{meta}{created}, $orig->{meta}{created}, 'meta.created kept');
isnt($u->{meta}{version}, $orig->{meta}{version}, 'meta.version changed');
like($u->{meta}{version} // '', qr/^W\/"[^"]+"$/, 'meta.version W/"..."');
is($r->{headers}{etag}, $u->{meta}{version}, 'ETag == new meta.version');
ok((iso8601_epoch($u->{meta}{lastModified}) // 0) > (iso8601_epoch($orig->{meta}{lastModified}) // 9e9),
   'meta.lastModified moved forward');
is($u->{meta}{location}, "http://127.0.0.1:$port/scim/v2/Users/$id", 'meta.location');
is($u->{displayName}, 'Carol Replaced', 'displayName replaced');
ok(is_jfalse($u->{active}), 'active "False" -> false');
ok(!exists $u->{title} && !exists $u->{nickName} && !exists $u->{phoneNumbers},
   'attributes absent from the PUT body are gone');
is_deeply($u->{emails}, [{ type => 'home', value => 'carol@home.example' }],
          'emails replaced as a whole');
is(scim_get_path($u, URN_ENT . ':department'), 'R&D', 'enterprise department');
ok(!exists $u->{password}, 'no password in the PUT response');
unlike($t->redis_cmd('HGET', "scim:{$T}:User:docs", $id) // '', qr/\Q$pw\E/,
       'no clear password stored by PUT');

$r = $t->get("Users/$id");
is($r->{json}{displayName}, 'Carol Replaced', 'GET sees the replacement');
is($r->{json}{meta}{version}, $u->{meta}{version}, 'GET version == PUT version');
is_scim_error($t->get('Users/other-id'), 404, undef, 'no user under the body id');

# PUT renames: the index moves
my $new = 'carol.renamed@example.com';
$r = $t->put("Users/$id", entra_user(userName => $new, externalId => 'carol-ext-2'));
is_scim_json($r, 200, 'PUT with a new userName and externalId');
is($r->{json}{userName}, $new, 'userName renamed');
is_list_response($t->list(filter => qq(userName eq "$un")), 0, 0, 'old userName no longer found');
is_list_response($t->list(filter => qq(userName eq "$new")), 1, 1, 'new userName found');
is_list_response($t->list(filter => 'externalId eq "carol-ext"'), 0, 0, 'old externalId gone');
is_list_response($t->list(filter => 'externalId eq "carol-ext-2"'), 1, 1, 'new externalId found');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", $un), undef, 'old idx:userName entry removed');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", $new), $id, 'new idx:userName entry');
is_deeply($t->redis_ext_ids("scim:{$T}:", 'User', 'carol-ext'), [], 'old idx:externalId entry removed');
my $r2 = $t->post('Users', entra_user(userName => $un, externalId => 'carol-ext'));
is_scim_json($r2, 201, 'the old userName is free again');
my $other = $r2->{json}{id} // 'none';

# case change of one's own userName is not a conflict
$r = $t->put("Users/$id", entra_user(userName => uc $new, externalId => 'carol-ext-2'));
is_scim_json($r, 200, 'PUT changing only the case of its own userName');
is($r->{json}{userName}, uc $new, '... stored as sent');

# conflicts and errors
is_scim_error($t->put("Users/$id", entra_user(userName => uc $un)), 409, 'uniqueness',
              "PUT to another user's userName (other case) -> 409");
is($t->get("Users/$id")->{json}{userName}, uc $new, 'the 409 changed nothing');
is_scim_error($t->put('Users/no-such-id', entra_user()), 404, undef, 'PUT unknown id -> 404');
is_scim_error($t->put("Users/$id", { schemas => [URN_ENT], userName => 'x@y.z' }), 400,
              'invalidSyntax', 'PUT without the core schema -> 400 invalidSyntax');
is_scim_error($t->put("Users/$id", { schemas => [URN_USER] }), 400, 'invalidValue',
              'PUT without userName -> 400 invalidValue');
is_scim_error($t->put("Users/$id", entra_user(active => 'perhaps')), 400, 'invalidValue',
              'PUT with a wrong type -> 400 invalidValue');
is_scim_json($t->put("Users/$id?aadOptscim062020",
                     entra_user(userName => uc $new, externalId => 'carol-ext-2')), 200,
             'PUT with ?aadOptscim062020');

# ------------------------------------------- If-Match (design.md s.3)

my $im = $t->create_user(entra_user(title => 'v1'))->{json} // {};
my $imid = $im->{id} // 'none';
my $v1 = $im->{meta}{version} // 'W/"0"';
$r = $t->patch("Users/$imid", patch_body({ op => 'Replace', path => 'title', value => 'v2' }),
               headers => { 'If-Match' => $v1 });
is_scim_json($r, 200, 'PATCH with If-Match = current version -> 200 + resource');
my $cur = $t->get("Users/$imid")->{json} // {};
is($cur->{title}, 'v2', '... applied');
my $v2 = $cur->{meta}{version} // 'W/"0"';
isnt($v2, $v1, '... new version');
$r = $t->patch("Users/$imid", patch_body({ op => 'Replace', path => 'title', value => 'stale' }),
               headers => { 'If-Match' => $v1 });
is_scim_error($r, 412, undef, 'PATCH with a stale If-Match -> 412 SCIM error');
is($t->get("Users/$imid")->{json}{title}, 'v2', '... not applied');
$r = $t->put("Users/$imid", entra_user(userName => $im->{userName}, title => 'v3'),
             headers => { 'If-Match' => $v2 });
is_scim_json($r, 200, 'PUT with If-Match = current version -> 200');
$cur = $t->get("Users/$imid")->{json} // {};
is($cur->{title}, 'v3', '... applied');
$r = $t->put("Users/$imid", entra_user(userName => $im->{userName}, title => 'stale'),
             headers => { 'If-Match' => $v2 });
is_scim_error($r, 412, undef, 'PUT with a stale If-Match -> 412 SCIM error');
is($t->get("Users/$imid")->{json}{title}, $cur->{title}, '... not applied');
is_scim_json($t->patch("Users/$imid", patch_body({ op => 'Replace', path => 'title', value => 'v4' }),
                       headers => { 'If-Match' => '*' }), 200, 'PATCH with If-Match: * -> 200');

# ---------------------------------------------------------------- DELETE

my $before = $t->redis_cmd('ZCARD', "scim:{$T}:User:ids");
$r = $t->delete("Users/$id");
is($r->{status}, 204, 'DELETE -> 204');
is($r->{content}, '', '204 has no body');
is_scim_error($t->get("Users/$id"), 404, undef, 'GET after DELETE -> 404');
is_scim_error($t->delete("Users/$id"), 404, undef, 'DELETE again -> 404');
is_scim_error($t->put("Users/$id", entra_user()), 404, undef, 'PUT after DELETE -> 404');
is_scim_error($t->patch_ops($id, { op => 'replace', path => 'displayName', value => 'x' }),
              404, undef, 'PATCH after DELETE -> 404');
is_list_response($t->list(filter => 'userName eq "' . uc($new) . '"'), 0, 0,
                 'filter by userName finds nothing');
is_list_response($t->list(filter => 'externalId eq "carol-ext-2"'), 0, 0,
                 'filter by externalId finds nothing');
is($t->redis_cmd('ZCARD', "scim:{$T}:User:ids"), $before - 1, 'ids zset shrank by one');
ok(!defined $t->redis_cmd('ZSCORE', "scim:{$T}:User:ids", $id), 'id gone from the zset');
ok(!$t->redis_cmd('HEXISTS', "scim:{$T}:User:docs", $id), 'resource key gone');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", lc $new), undef, 'idx:userName entry gone');
is_deeply($t->redis_ext_ids("scim:{$T}:", 'User', 'carol-ext-2'), [], 'idx:externalId entry gone');
is(scalar(() = $t->redis_keys("scim:{$T}:*$id*"))
   + $t->redis_cmd('HEXISTS', "scim:{$T}:User:display", $id)
   + $t->redis_ngroups_of("scim:{$T}:", $id), 0, 'no key left for the id');

$r = $t->post('Users', entra_user(userName => $new, externalId => 'carol-ext-2'));
is_scim_json($r, 201, 'userName and externalId reusable after DELETE');
isnt($r->{json}{id}, $id, 'a new id');

is($t->delete("Users/$other?aadOptscim062020")->{status}, 204, 'DELETE with ?aadOptscim062020');
is_scim_error($t->delete('Users/never-existed'), 404, undef, 'DELETE unknown id -> 404');
is($t->get("Users/$r->{json}{id}")->{status}, 200, 'other users untouched');

$t->finish;

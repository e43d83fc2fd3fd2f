#!/usr/bin/perl

# PATCH /Users/{id} with every form Entra sends (design.md s.5, research
# Q1-Q9, Q16): ops in any case, value paths with create-on-absent,
# userName with the index moving, active as "True"/"False", pathless ops
# with dotted and URN keys, manager shapes (always returned as an object),
# roles[primary eq "True"], JSON-encoded role values, empty Operations.
# Errors: id -> mutability, bad path -> invalidPath, atomicity.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $T = 'acme';
my $BASE = "http://127.0.0.1:$port/scim/v2";
my $ENT = URN_ENT;

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

sub fresh {
    my (%o) = @_;
    my $r = $t->create_user(entra_user(%o));
    return $r->{json} // { id => 'none' };
}

# PATCH that must answer 200 with the resource; returns the resource
sub patch_ok {
    my ($id, $name, @ops) = @_;
    my $r = $t->patch_ops($id, @ops);
    is_scim_json($r, 200, "$name -> 200 + resource");
    return $r->{json} // {};
}

sub get_user { $t->get("Users/$_[0]")->{json} // {} }

# ---------------------------------------------------- sequence C (Q1, Q5)

my $un = 'dave@example.com';
my $u0 = fresh(userName => $un, displayName => 'Dave');
my $id = $u0->{id};

my $r = $t->patch_ops($id,
    { op => 'Replace', path => 'emails[type eq "work"].value', value => 'dave.work@example.com' },
    { op => 'Replace', path => 'name.familyName', value => 'Newfamily' },
    { op => 'Replace', path => 'userName', value => 'dave.renamed@example.com' });
is_scim_json($r, 200, 'Entra update: three Replace ops -> 200 + resource');
my $u = $r->{json} // {};
is($u->{id}, $id, 'same id');
is(scim_get_path($u, 'emails[type eq "work"].value'), 'dave.work@example.com', 'work email replaced');
is(scalar(grep { ($_->{type} // '') eq 'work' } @{ $u->{emails} // [] }), 1,
   'still one work email (replaced in place)');
ok(is_jtrue(scim_get_path($u, 'emails[type eq "work"].primary')), 'its primary flag kept');
is($u->{name}{familyName}, 'Newfamily', 'name.familyName replaced');
is($u->{name}{givenName}, 'Given', 'name.givenName untouched');
is($u->{userName}, 'dave.renamed@example.com', 'userName replaced');
is($u->{displayName}, 'Dave', 'displayName untouched');
isnt($u->{meta}{version}, $u0->{meta}{version}, 'meta.version changed');
is($r->{headers}{etag}, $u->{meta}{version}, 'ETag == meta.version');
is($u->{meta}{created}, $u0->{meta}{created}, 'meta.created kept');
is($u->{meta}{location}, "$BASE/Users/$id", 'meta.location');
is_deeply(get_user($id), $u, 'GET returns what PATCH returned');

is_list_response($t->list(filter => qq(userName eq "$un")), 0, 0, 'old userName not found');
is_list_response($t->list(filter => 'userName eq "DAVE.RENAMED@example.com"'), 1, 1,
                 'new userName found (any case)');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", 'dave.renamed@example.com'), $id,
   'idx:userName moved');
is($t->redis_cmd('HGET', "scim:{$T}:User:idx:userName", $un), undef, 'old idx entry removed');
my $dave2 = $t->post('Users', entra_user(userName => $un));
is_scim_json($dave2, 201, 'old userName free again');
is_scim_error($t->patch_ops($id, { op => 'Replace', path => 'userName', value => uc $un }),
              409, 'uniqueness', 'PATCH userName to a taken one (other case) -> 409');
is(get_user($id)->{userName}, 'dave.renamed@example.com', 'the 409 changed nothing');

# ops in any case
for my $op (qw(add Add ADD replace Replace REPLACE rEpLaCe)) {
    $u = patch_ok($id, "op \"$op\"", { op => $op, path => 'title', value => "T-$op" });
    is($u->{title}, "T-$op", "op \"$op\" applied");
}
$u = patch_ok($id, 'op "Remove"', { op => 'Remove', path => 'title' });
ok(!exists $u->{title}, 'Remove title: gone');
$u = patch_ok($id, 'op "REMOVE"', { op => 'Add', path => 'title', value => 'x' },
                                  { op => 'REMOVE', path => 'title' });
ok(!exists $u->{title}, 'REMOVE title: gone');

# Add of a previously empty attribute; Add on an existing singular replaces
$u = patch_ok($id, 'Add nickName', { op => 'Add', path => 'nickName', value => 'Davey' });
is($u->{nickName}, 'Davey', 'nickName added');
$u = patch_ok($id, 'Add nickName again', { op => 'Add', path => 'nickName', value => 'D2' });
is($u->{nickName}, 'D2', 'Add on an existing singular attribute replaces it');

# ---------------------------------------------- Q5: create on absent

my $v = fresh(emails => [{ type => 'home', value => 'v@home.example' }]);
my $vid = $v->{id};
$u = patch_ok($vid, 'Add phoneNumbers[type eq "mobile"].value (none yet)',
    { op => 'Add', path => 'phoneNumbers[type eq "mobile"].value', value => '+1 555 0101' });
is_deeply($u->{phoneNumbers}, [{ type => 'mobile', value => '+1 555 0101' }],
          'mobile phone element created');
$u = patch_ok($vid, 'Replace addresses[type eq "work"].postalCode (no addresses)',
    { op => 'Replace', path => 'addresses[type eq "work"].postalCode', value => '98052' });
is_deeply($u->{addresses}, [{ type => 'work', postalCode => '98052' }],
          'work address element created by Replace');
$u = patch_ok($vid, 'Add addresses[type eq "work"].locality',
    { op => 'Add', path => 'addresses[type eq "work"].locality', value => 'Redmond' });
is(scalar @{ $u->{addresses} // [] }, 1, 'still one address (matched the work one)');
is(scim_get_path($u, 'addresses[type eq "work"].locality'), 'Redmond', 'locality set');
is(scim_get_path($u, 'addresses[type eq "work"].postalCode'), '98052', 'postalCode kept');
$u = patch_ok($vid, 'Add emails[type eq "work"].value (only a home email)',
    { op => 'Add', path => 'emails[type eq "work"].value', value => 'v@work.example' });
is(scim_get_path($u, 'emails[type eq "work"].value'), 'v@work.example', 'work email created');
is(scim_get_path($u, 'emails[type eq "home"].value'), 'v@home.example', 'home email kept');
is(scalar @{ $u->{emails} // [] }, 2, 'two emails');
$u = patch_ok($vid, 'Replace phoneNumbers[type eq "work"].value (other type exists)',
    { op => 'Replace', path => 'phoneNumbers[type eq "work"].value', value => '+1 555 0102' });
is(scim_get_path($u, 'phoneNumbers[type eq "work"].value'), '+1 555 0102', 'work phone created');
is(scim_get_path($u, 'phoneNumbers[type eq "mobile"].value'), '+1 555 0101', 'mobile phone kept');
$u = patch_ok($vid, 'remove emails[type eq "home"]',
    { op => 'remove', path => 'emails[type eq "home"]' });
ok(!defined scim_get_path($u, 'emails[type eq "home"].value'), 'home email removed');
is(scim_get_path($u, 'emails[type eq "work"].value'), 'v@work.example', 'work email kept');

# ------------------------------------------------------------- Q2: active

for my $c (['Replace', 'False', 0], ['Replace', 'True', 1], ['replace', jfalse, 0],
           ['replace', jtrue, 1], ['Replace', 'false', 0], ['Replace', 'true', 1])
{
    my ($op, $val, $want) = @$c;
    my $shown = ref $val ? ($val ? 'true' : 'false') : "\"$val\"";
    $u = patch_ok($vid, "$op active $shown", { op => $op, path => 'active', value => $val });
    ok($want ? is_jtrue($u->{active}) : is_jfalse($u->{active}),
       "active $shown -> JSON " . ($want ? 'true' : 'false'));
}
patch_ok($vid, 'disable', { op => 'Replace', path => 'active', value => 'False' });
my $g = $t->get("Users/$vid");
is_scim_json($g, 200, 'disabled user: GET 200');
ok(is_jfalse($g->{json}{active}), 'disabled user: active false');
is_list_response($t->list(filter => 'userName eq "' . ($v->{userName} // '') . '"'), 1, 1,
                 'disabled user found by filter');
is_scim_error($t->patch_ops($vid, { op => 'Replace', path => 'active', value => 'maybe' }),
              400, 'invalidValue', 'active "maybe" -> 400 invalidValue');

# ----------------------------------------------- Q9: pathless, dotted keys

my $w = fresh(displayName => 'W');
my $wid = $w->{id};
$u = patch_ok($wid, 'pathless replace with dotted and URN keys',
    { op => 'replace', value => {
        'name.givenName'  => 'Wilma',
        'name.familyName' => 'Flint',
        displayName       => 'Wilma Flint',
        "$ENT:employeeNumber" => 'E-42',
        "$ENT:department"     => 'Quarry',
    } });
is($u->{name}{givenName}, 'Wilma', 'name.givenName');
is($u->{name}{familyName}, 'Flint', 'name.familyName');
is($u->{name}{formatted}, 'Given Family', 'name.formatted untouched');
is($u->{displayName}, 'Wilma Flint', 'displayName');
is(scim_get_path($u, "$ENT:employeeNumber"), 'E-42', 'enterprise employeeNumber');
is(scim_get_path($u, "$ENT:department"), 'Quarry', 'enterprise department');
$u = patch_ok($wid, 'pathless Add of plain attributes',
    { op => 'Add', value => { nickName => 'Wil', title => 'Driver', externalId => 'w-ext' } });
is($u->{nickName}, 'Wil', 'nickName');
is($u->{title}, 'Driver', 'title');
is($u->{externalId}, 'w-ext', 'externalId');
is_list_response($t->list(filter => 'externalId eq "w-ext"'), 1, 1,
                 'externalId set by a pathless op is indexed');
$u = patch_ok($wid, 'pathless replace with "active": "False"',
    { op => 'Replace', value => { active => 'False' } });
ok(is_jfalse($u->{active}), 'active false');

# --------------------------------------------------------- paths in any case

$u = patch_ok($wid, 'path "DisplayName"', { op => 'Replace', path => 'DisplayName', value => 'DN' });
is($u->{displayName}, 'DN', 'DisplayName -> displayName');
$u = patch_ok($wid, 'path "Name.FamilyName"', { op => 'Replace', path => 'Name.FamilyName', value => 'FN' });
is($u->{name}{familyName}, 'FN', 'Name.FamilyName -> name.familyName');
$u = patch_ok($wid, 'path \'Emails[Type eq "work"].Value\'',
    { op => 'Replace', path => 'Emails[Type eq "work"].Value', value => 'wcase@example.com' });
is(scim_get_path($u, 'emails[type eq "work"].value'), 'wcase@example.com', 'case-insensitive value path');
ok(!exists $u->{DisplayName} && !exists $u->{Emails}, 'output in canonical case only');
$u = patch_ok($wid, 'URN path in lower case',
    { op => 'Replace', path => lc("$ENT:department"), value => 'lc-dept' });
is(scim_get_path($u, "$ENT:department"), 'lc-dept', 'lower-case URN path applied');

# externalId replace moves its index
$u = patch_ok($wid, 'Replace externalId', { op => 'Replace', path => 'externalId', value => 'w-ext-2' });
is_list_response($t->list(filter => 'externalId eq "w-ext"'), 0, 0, 'old externalId gone');
is_list_response($t->list(filter => 'externalId eq "w-ext-2"'), 1, 1, 'new externalId found');

# password
my $pw = 'Patch-Secret-' . int(rand(1e9));
$r = $t->patch_ops($wid, { op => 'Replace', path => 'password', value => $pw });
is_scim_json($r, 200, 'PATCH password');
ok(!exists $r->{json}{password}, 'password not returned');
unlike($r->{content}, qr/\Q$pw\E/, 'clear password not in the response');
unlike($t->redis_cmd('HGET', "scim:{$T}:User:docs", $wid) // '', qr/\Q$pw\E/, 'nor stored in clear');

# ?aadOptscim062020 on the PATCH URL
is_scim_json($t->patch("Users/$wid?aadOptscim062020",
                       patch_body({ op => 'Replace', path => 'title', value => 'Q19' })), 200,
             'PATCH /Users/{id}?aadOptscim062020');

# ------------------------------------------------------------ Q8: manager

my $m1 = fresh(displayName => 'Manager One');
my $m2 = fresh(displayName => 'Manager Two');
my ($m1id, $m2id) = ($m1->{id}, $m2->{id});
my $e = fresh(displayName => 'Employee');
my $eid = $e->{id};

sub mgr_is {
    my ($res, $mid, $dn, $name) = @_;
    my $mg = scim_get_path($res, "$ENT:manager");
    my $want = { value => $mid, '$ref' => "$BASE/Users/$mid" };
    $want->{displayName} = $dn if defined $dn;
    is_deeply($mg, $want, "$name: manager is {value, \$ref"
              . (defined $dn ? ', displayName}' : '}'))
        or diag explain $mg;
}
sub no_mgr {
    my ($res, $name) = @_;
    ok(!defined scim_get_path($res, "$ENT:manager"), "$name: no manager")
        or diag explain scim_get_path($res, "$ENT:manager");
}

$u = patch_ok($eid, 'Add manager [{$ref, value}] (TUT example 5)',
    { op => 'Add', path => 'manager', value => [{ '$ref' => "$BASE/Users/$m1id", value => $m1id }] });
mgr_is($u, $m1id, 'Manager One', 'after Add');
mgr_is(get_user($eid), $m1id, 'Manager One', 'GET after Add');
ok((grep { $_ eq $ENT } @{ $u->{schemas} // [] }), 'schemas lists the enterprise URN');

$u = patch_ok($eid, 'Replace URN manager with a bare string id',
    { op => 'Replace', path => "$ENT:manager", value => $m2id });
mgr_is($u, $m2id, 'Manager Two', 'after Replace (string)');

$u = patch_ok($eid, 'Replace URN manager with {value}',
    { op => 'Replace', path => "$ENT:manager", value => { value => $m1id } });
mgr_is($u, $m1id, 'Manager One', 'after Replace ({value})');

$u = patch_ok($eid, 'Add manager as a bare string, path "manager"',
    { op => 'Add', path => 'manager', value => $m2id });
mgr_is($u, $m2id, 'Manager Two', 'after Add (string)');

$u = patch_ok($eid, 'Remove manager, no value',
    { op => 'Remove', path => 'manager' });
no_mgr($u, 'Remove manager');
no_mgr(get_user($eid), 'GET after Remove');

patch_ok($eid, 'set manager again', { op => 'Add', path => 'manager', value => $m1id });
$u = patch_ok($eid, 'remove manager[value eq "id"]',
    { op => 'remove', path => qq(manager[value eq "$m1id"]) });
no_mgr($u, 'remove manager[value eq id]');

patch_ok($eid, 'set manager again', { op => 'Add', path => "$ENT:manager", value => $m1id });
$u = patch_ok($eid, 'Replace URN manager with ""',
    { op => 'Replace', path => "$ENT:manager", value => '' });
no_mgr($u, 'replace with empty string');

patch_ok($eid, 'set manager again', { op => 'Add', path => "$ENT:manager", value => $m1id });
$u = patch_ok($eid, 'Remove URN manager, no value',
    { op => 'Remove', path => "$ENT:manager" });
no_mgr($u, 'Remove URN manager');

$u = patch_ok($eid, 'pathless op with a URN manager key',
    { op => 'Add', value => { "$ENT:manager" => $m2id } });
mgr_is($u, $m2id, 'Manager Two', 'pathless manager');

# a manager must be a user of the tenant (issue 11), not the user itself
is_scim_error($t->patch_ops($eid, { op => 'Replace', path => 'manager', value => 'ghost-id' }),
              400, 'invalidValue', 'manager id of no existing user -> 400');
is_scim_error($t->patch_ops($eid, { op => 'Replace', path => 'manager', value => $eid }),
              400, 'invalidValue', 'the user itself as its manager -> 400');
mgr_is(get_user($eid), $m2id, 'Manager Two', 'the manager unchanged');

# displayName is the manager's current one
patch_ok($eid, 'manager back to m1', { op => 'Replace', path => 'manager', value => $m1id });
patch_ok($m1id, 'rename the manager', { op => 'Replace', path => 'displayName', value => 'Renamed Boss' });
mgr_is(get_user($eid), $m1id, 'Renamed Boss', "manager's new displayName shown");
$r = $t->list(filter => 'userName eq "' . ($e->{userName} // '') . '"');
mgr_is((($r->{json}{Resources} // [])->[0]) // {}, $m1id, 'Renamed Boss', 'in a ListResponse too');

# the manager is deleted: its reports lose it (issue 11), at a new version
my $m3 = fresh(displayName => 'Short Lived Boss');
my $managed = patch_ok($eid, 'manager -> m3', { op => 'Replace', path => 'manager', value => $m3->{id} });
is($t->delete("Users/$m3->{id}")->{status}, 204, 'delete the manager');
my $orphan = get_user($eid);
no_mgr($orphan, 'after the manager was deleted');
isnt($orphan->{meta}{version}, $managed->{meta}{version}, '... at a new version');

# -------------------------------------------------------------- Q7: roles

my $ro = fresh(roles => [{ primary => jtrue, type => 'WindowsAzureActiveDirectoryRole',
                           value => 'Admin', display => 'Administrator' },
                         { primary => jfalse, type => 'WindowsAzureActiveDirectoryRole',
                           value => 'Reader', display => 'Reader' }]);
my $roid = $ro->{id};
$u = patch_ok($roid, 'Replace roles[primary eq "True"].display',
    { op => 'Replace', path => 'roles[primary eq "True"].display', value => 'Admins' });
is(scim_get_path($u, 'roles[primary eq "True"].display'), 'Admins', 'primary role display');
is(scim_get_path($u, 'roles[primary eq "True"].value'), 'Admin', 'primary role value kept');
is(scim_get_path($u, 'roles[primary eq "False"].display'), 'Reader', 'other role untouched');
is(scalar @{ $u->{roles} // [] }, 2, 'two roles');
$u = patch_ok($roid, 'Replace roles[primary eq "True"].value',
    { op => 'Replace', path => 'roles[primary eq "True"].value', value => 'SuperAdmin' });
is(scim_get_path($u, 'roles[primary eq "True"].value'), 'SuperAdmin', 'primary role value');
$u = patch_ok($roid, 'Replace roles[primary eq "True"].type',
    { op => 'Replace', path => 'roles[primary eq "True"].type', value => 'CustomRole' });
is(scim_get_path($u, 'roles[primary eq "True"].type'), 'CustomRole', 'primary role type');
ok(is_jtrue(scim_get_path($u, 'roles[primary eq "True"].primary')), 'primary still boolean true');

my $nr = fresh();
$u = patch_ok($nr->{id}, 'Add roles[primary eq "True"].value on a user without roles',
    { op => 'Add', path => 'roles[primary eq "True"].value', value => 'R1' });
is(scim_get_path($u, 'roles[primary eq "True"].value'), 'R1', 'role element created');
ok(is_jtrue(($u->{roles} // [{}])->[0]{primary}), 'created with primary: true (boolean)');
$u = patch_ok($nr->{id}, 'Add roles[primary eq "True"].display',
    { op => 'Add', path => 'roles[primary eq "True"].display', value => 'Role One' });
is(scalar @{ $u->{roles} // [] }, 1, 'still one role');
is(scim_get_path($u, 'roles[primary eq "True"].display'), 'Role One', 'display added to it');

my $json_role = '{"id":"06b07648-ecfe-589f-9d2f-6325724a46ee","value":"25","displayName":"Role1234"}';
$u = patch_ok($nr->{id}, 'Add roles with a JSON-encoded string value (CAA)',
    { op => 'Add', path => 'roles', value => [{ value => $json_role }] });
ok((grep { ($_->{value} // '') eq $json_role } @{ $u->{roles} // [] }),
   'the JSON-encoded role value is kept as the exact string');
$u = patch_ok($nr->{id}, 'replace roles with a full array',
    { op => 'replace', path => 'roles', value => [
        { primary => 'False', type => 'WindowsAzureActiveDirectoryRole', value => 'A' },
        { primary => 'False', type => 'WindowsAzureActiveDirectoryRole', value => 'B' } ] });
is_deeply([ sort map { $_->{value} } @{ $u->{roles} // [] } ], ['A', 'B'], 'roles replaced');

# ----------------------------------------- multi-valued, RFC 7644 3.5.2

my $mv = fresh(emails => [{ type => 'work', value => 'mv@work.example', primary => jtrue }]);
my $mvid = $mv->{id};
$u = patch_ok($mvid, 'add emails [..] (no filter) appends',
    { op => 'add', path => 'emails', value => [{ type => 'home', value => 'mv@home.example' }] });
is(scalar @{ $u->{emails} // [] }, 2, 'two emails after add');
is(scim_get_path($u, 'emails[type eq "work"].value'), 'mv@work.example', 'work email kept');
$u = patch_ok($mvid, 'replace emails [..] (no filter) replaces all',
    { op => 'replace', path => 'emails', value => [{ type => 'other', value => 'mv@other.example' }] });
is_deeply($u->{emails}, [{ type => 'other', value => 'mv@other.example' }], 'emails replaced');
$u = patch_ok($mvid, 'remove emails', { op => 'remove', path => 'emails' });
ok(!exists $u->{emails}, 'no emails left');

# a required attribute cannot be removed
$r = $t->patch_ops($mvid, { op => 'remove', path => 'userName' });
is_scim_error($r, 400, undef, 'remove userName (required) -> 400');
is(get_user($mvid)->{userName}, $mv->{userName}, '... userName kept');
is_list_response($t->list(filter => qq(userName eq "$mv->{userName}")), 1, 1, '... and indexed');

# ------------------------------------------------------- Q16: empty array

my $before = get_user($wid);
$r = $t->patch_ops($wid);
is_scim_json($r, 200, 'empty Operations -> 200 + resource');
my $after = $r->{json} // {};
delete $_->{meta} for $before, $after;
is_deeply($after, $before, 'empty Operations changed nothing');

# ------------------------------------------------------------------ errors

my $x = fresh(displayName => 'Unchanged');
my $xid = $x->{id};
is_scim_error($t->patch_ops($xid, { op => 'replace', path => 'id', value => 'new-id' }),
              400, 'mutability', 'replace id -> 400 mutability');
is_scim_error($t->patch_ops($xid, { op => 'Replace', path => 'displayName', value => 'Changed' },
                                  { op => 'Replace', path => 'id', value => 'new-id' }),
              400, 'mutability', 'a good op then an id op -> 400 mutability');
is(get_user($xid)->{displayName}, 'Unchanged', 'a failed PATCH applies none of its ops');
is(get_user($xid)->{meta}{version}, $x->{meta}{version}, '... and keeps the version');

for my $p ('emails[type eq "work"', 'name..givenName', 'emails[type eq "work"]]',
           'emails[type "work"].value', '[type eq "work"]', 'emails[type eq "work"].value.x',
           '.value')
{
    is_scim_error($t->patch_ops($xid, { op => 'replace', path => $p, value => 'x' }),
                  400, 'invalidPath', "malformed path '$p' -> 400 invalidPath");
}
is_scim_error($t->patch_ops($xid, { op => 'remove' }), 400, 'noTarget',
              'remove without path -> 400 noTarget');
is_scim_error($t->patch_ops($xid, { op => 'frobnicate', path => 'title', value => 'x' }),
              400, undef, 'unknown op -> 400');
is_scim_error($t->patch_ops($xid, { op => 'Replace', path => 'userName', value => 5 }),
              400, 'invalidValue', 'userName a number -> 400 invalidValue');
is_scim_error($t->patch("Users/$xid", { schemas => [URN_PATCH] }), 400, undef,
              'no Operations -> 400');
is_scim_error($t->patch("Users/$xid", { schemas => [URN_PATCH], Operations => {} }), 400, undef,
              'Operations an object -> 400');
is_scim_error($t->patch("Users/$xid", { schemas => [URN_PATCH], Operations => ['x'] }), 400, undef,
              'an operation that is not an object -> 400');
is_scim_error($t->patch_ops('no-such-id', { op => 'Replace', path => 'title', value => 'x' }),
              404, undef, 'PATCH unknown id -> 404');
is(get_user($xid)->{meta}{version}, $x->{meta}{version}, 'failed PATCHes left the user unchanged');

$t->finish;

#!/usr/bin/perl

# Validation from the schemas (issue 4; RFC 7643 2, 7; RFC 7644 3.3,
# 3.5, 3.12): required attributes (core, Group, extension), types
# (string, boolean, integer, decimal, dateTime, binary, complex,
# multi-valued), canonicalValues where the schema lists them,
# mutability (readOnly ignored on input, immutable changes -> 400
# mutability, readOnly paths -> 400 mutability), uniqueness, at most one
# primary:true per multi-valued attribute (400 invalidValue; a PATCH
# setting primary demotes the others), and the PATCH edge cases of RFC
# 7644 3.5.2: noTarget for a remove/replace filter that matches nothing
# on a non-Entra path, no path on remove, removal of required attributes
# refused, complex values merged on add/replace, atomic operations.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);

use constant URN_VX => 'urn:example:params:scim:schemas:extension:valid:2.0:User';
my $VX = URN_VX;

sub attr {
    my ($name, $type, %o) = @_;
    return { name => $name, type => $type, multiValued => jfalse,
             description => $name, required => jfalse, caseExact => jfalse,
             mutability => 'readWrite', returned => 'default',
             uniqueness => 'none', %o };
}

$t->write_file('valid-ext.json', json_encode({
    schemas => ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id => URN_VX, name => 'ValidUser', description => 'validation test extension',
    attributes => [
        attr('costCode', 'string', required => jtrue),
        attr('badgeNo', 'string', mutability => 'immutable'),
        attr('tier', 'string', canonicalValues => ['gold', 'silver']),
        attr('level', 'integer'),
        attr('ratio', 'decimal'),
        attr('since', 'dateTime'),
        attr('flag', 'boolean'),
        attr('tags', 'string', multiValued => jtrue),
    ],
}));

$t->write_config($t->standard_conf(extra => "        scim_schema_extension %%DIR%%/valid-ext.json;\n"));
$t->start_nginx_ok;

my $N = 0;
sub uname { 'v' . ++$N . '@example.com' }
sub ubody { my (%o) = @_; return { schemas => [URN_USER], userName => uname(), %o } }
sub vbody {
    my (%vx) = @_;
    return { schemas => [URN_USER, $VX], userName => uname(), $VX => { costCode => 'CC-1', %vx } };
}

sub created {
    my ($body, $name) = @_;
    my $r = $t->post('Users', $body);
    is_scim_json($r, 201, $name);
    return $r->{json} // {};
}

sub rejected {
    my ($body, $type, $name, $path) = @_;
    my $r = $t->post($path // 'Users', $body);
    is_scim_error($r, 400, $type, $name);
    return $r;
}

sub users_named {
    my ($un) = @_;
    return $t->list(filter => qq(userName eq "$un"))->{json}{totalResults} // -1;
}

# ------------------------------------------------------------ required

rejected({ schemas => [URN_USER], displayName => 'No Name' }, 'invalidValue',
         'POST without userName -> 400 invalidValue');
rejected({ schemas => [URN_USER], userName => '' }, 'invalidValue', 'userName "" -> 400 invalidValue');
rejected({ schemas => [URN_USER], userName => undef }, 'invalidValue', 'userName null -> 400 invalidValue');
rejected({ schemas => [URN_GROUP], members => [] }, 'invalidValue',
         'POST /Groups without displayName -> 400 invalidValue', 'Groups');
rejected({ schemas => [URN_USER, $VX], userName => uname(), $VX => { tier => 'gold' } }, 'invalidValue',
         'extension block without its required costCode -> 400 invalidValue');
rejected({ schemas => [URN_USER, $VX], userName => uname(), $VX => { costCode => '' } }, 'invalidValue',
         'extension required attribute "" -> 400 invalidValue');
my $u = created(vbody(), 'extension block with its required attribute -> 201');
my $uid = $u->{id} // 'none';
my $r = $t->put("Users/$uid", { schemas => [URN_USER], displayName => 'x' });
is_scim_error($r, 400, 'invalidValue', 'PUT without userName -> 400 invalidValue');

# --------------------------------------------------------------- types

for my $c (
    [ { userName => 123 },                              'userName a number' ],
    [ { userName => ['a@example.com'] },                'userName an array' ],
    [ { userName => { value => 'x' } },                 'userName an object' ],
    [ { active => 'maybe' },                            'active "maybe"' ],
    [ { active => 1 },                                  'active 1' ],
    [ { name => 'Bob Smith' },                          'name (complex) a string' ],
    [ { name => ['Bob'] },                              'name (complex) an array' ],
    [ { name => { givenName => 5 } },                   'name.givenName a number' ],
    [ { emails => 'a@example.com' },                    'emails (multi-valued) a string' ],
    [ { emails => ['a@example.com'] },                  'emails an array of strings' ],
    [ { emails => [{ value => 'a@example.com', primary => 'yes' }] }, 'emails.primary "yes"' ],
    [ { emails => [{ value => ['a@example.com'] }] },   'emails.value an array' ],
    [ { x509Certificates => [{ value => 'not base64 !!!' }] }, 'binary value not base64' ],
    [ { displayName => { a => 1 } },                    'displayName an object' ],
    [ { title => 1.5 },                                 'title a number' ],
)
{
    rejected(ubody(%{ $c->[0] }), 'invalidValue', "$c->[1] -> 400 invalidValue");
}
for my $c (
    [ { level => 'abc' },                 'integer "abc"' ],
    [ { level => 1.5 },                   'integer 1.5' ],
    [ { level => jtrue },                 'integer true' ],
    [ { ratio => 'x' },                   'decimal "x"' ],
    [ { since => 'yesterday' },           'dateTime "yesterday"' ],
    [ { since => '2020-13-45T99:00:00Z' }, 'dateTime out of range' ],
    [ { since => 1577836800 },            'dateTime a number' ],
    [ { flag => 1 },                      'boolean 1' ],
    [ { flag => 'sure' },                 'boolean "sure"' ],
    [ { tags => [1, 2] },                 'multi-valued string of numbers' ],
    [ { costCode => ['a', 'b'] },         'single-valued string an array' ],
)
{
    rejected(vbody(%{ $c->[0] }), 'invalidValue', "extension $c->[1] -> 400 invalidValue");
}
my $ok = created(vbody(level => -7, ratio => 2, since => '2020-01-01T10:00:00+02:00', flag => jfalse,
                       tags => ['a', 'b']), 'typed extension values that fit -> 201');
is(($ok->{$VX} // {})->{level}, -7, 'integer kept');
is(($ok->{$VX} // {})->{ratio}, 2, 'decimal 2 (an integer literal) accepted');
ok(is_jfalse(($ok->{$VX} // {})->{flag}), 'boolean false kept as a JSON boolean');
ok(iso8601_ok(($ok->{$VX} // {})->{since}), 'dateTime kept as a dateTime');
$ok = created(ubody(active => 'True', emails => [{ value => 'e@example.com', primary => 'True' }]),
              'Entra booleans "True" -> 201');
ok(is_jtrue($ok->{active}), '... active stored as true');
ok(is_jtrue((($ok->{emails} // [])->[0] // {})->{primary}), '... primary stored as true');
$ok = created(ubody(x509Certificates => [{ value => 'TUlJRGRqQ0NBbDZnQXdJQkFnSUpBTA==' }]),
              'binary value in base64 -> 201');

# Groups
rejected({ schemas => [URN_GROUP], displayName => 'G1', members => 'abc' }, 'invalidValue',
         'Group members a string -> 400 invalidValue', 'Groups');
rejected({ schemas => [URN_GROUP], displayName => 'G2', members => [{ value => '' }] }, 'invalidValue',
         'Group member value "" -> 400 invalidValue', 'Groups');
rejected({ schemas => [URN_GROUP], displayName => 42 }, 'invalidValue',
         'Group displayName a number -> 400 invalidValue', 'Groups');

# ---------------------------------------------------- canonicalValues

rejected(vbody(tier => 'bronze'), 'invalidValue',
         'extension attribute outside its canonicalValues -> 400 invalidValue');
created(vbody(tier => 'gold'), 'extension attribute inside its canonicalValues -> 201');
# RFC 7643 calls the core "type" values suggestions, and clients send their
# own: kept as sent (an extension's canonicalValues are enforced, above)
{
    my $j = created(ubody(emails => [{ value => 'c@example.com', type => 'no-such-type' }]),
                    'emails.type outside the suggested work/home/other -> 201');
    is($j->{emails}[0]{type}, 'no-such-type', '... and kept as sent');
}

# a single complex value for a multi-valued attribute is taken as a list
# of one (lenient, as clients send it); stored and returned as an array
{
    my $j = created(ubody(emails => { value => 'a@example.com', type => 'work' }),
                    'emails given as one object -> 201');
    is(ref $j->{emails}, 'ARRAY', '... stored as an array');
    is($j->{emails}[0]{value}, 'a@example.com', '... holding that value');
}
created(ubody(emails => [{ value => 'c@example.com', type => 'work' }],
              phoneNumbers => [{ value => '+1', type => 'mobile' }],
              addresses => [{ type => 'work', locality => 'X' }]),
        'canonical types (Entra: work, mobile) -> 201');
created(ubody(roles => [{ value => 'r1', type => 'anything' }]),
        'roles.type has no canonicalValues: anything goes -> 201');

# ----------------------------------------------------------- mutability

my $ro = created(ubody(id => 'my-own-id', meta => { created => '2000-01-01T00:00:00Z', version => 'W/"77"' },
                       groups => [{ value => 'some-group' }]),
                 'readOnly attributes on POST (id, meta, groups) -> 201, ignored');
isnt($ro->{id}, 'my-own-id', 'id is assigned by the server');
isnt(($ro->{meta} // {})->{created}, '2000-01-01T00:00:00Z', 'meta.created is the server\'s');
ok(!@{ $ro->{groups} // [] }, 'groups ignored');
$r = $t->put("Users/$ro->{id}", { schemas => [URN_USER], userName => $ro->{userName}, id => 'other-id' });
is_scim_json($r, 200, 'PUT with another id in the body -> 200 (readOnly ignored)');
is($r->{json}{id}, $ro->{id}, '... the id is unchanged');
for my $p ('id', 'meta.created', 'meta', 'groups') {
    $r = $t->patch_ops($ro->{id}, { op => 'replace', path => $p, value => $p eq 'meta' ? {} : 'x' });
    is_scim_error($r, 400, 'mutability', "PATCH replace $p (readOnly) -> 400 mutability");
}

my $im = created(vbody(badgeNo => 'B-1'), 'immutable attribute set on POST -> 201');
my $imid = $im->{id} // 'none';
my $imbody = { schemas => [URN_USER, $VX], userName => $im->{userName}, $VX => { costCode => 'CC-1', badgeNo => 'B-1' } };
$r = $t->put("Users/$imid", { %$imbody, displayName => 'same badge' });
is_scim_json($r, 200, 'PUT with the same immutable value -> 200');
$r = $t->put("Users/$imid", { %$imbody, $VX => { costCode => 'CC-1', badgeNo => 'B-2' } });
is_scim_error($r, 400, 'mutability', 'PUT changing an immutable value -> 400 mutability');
$r = $t->patch_ops($imid, { op => 'replace', path => "$VX:badgeNo", value => 'B-3' });
is_scim_error($r, 400, 'mutability', 'PATCH replace of an immutable value -> 400 mutability');
$r = $t->patch_ops($imid, { op => 'replace', value => { $VX => { badgeNo => 'B-4' } } });
is_scim_error($r, 400, 'mutability', 'PATCH replace (no path) of an immutable value -> 400 mutability');
$r = $t->patch_ops($imid, { op => 'remove', path => "$VX:badgeNo" });
is_scim_error($r, 400, 'mutability', 'PATCH remove of an immutable value -> 400 mutability');
is((($t->get("Users/$imid")->{json} // {})->{$VX} // {})->{badgeNo}, 'B-1', 'the immutable value is still B-1');
my $im2 = created(vbody(), 'a user without the immutable attribute');
$r = $t->patch_ops($im2->{id}, { op => 'add', path => "$VX:badgeNo", value => 'B-9' });
is_scim_json($r, 200, 'PATCH add of an immutable attribute that has no value yet -> 200');
is((($r->{json} // {})->{$VX} // {})->{badgeNo}, 'B-9', '... set');

# ----------------------------------------------------------- uniqueness

my $a1 = created(ubody(userName => 'unique.one@example.com'), 'unique user');
is_scim_error($t->post('Users', ubody(userName => 'UNIQUE.ONE@example.com')), 409, 'uniqueness',
              'POST userName differing in case -> 409 uniqueness');
my $a2 = created(ubody(userName => 'unique.two@example.com'), 'second user');
is_scim_error($t->put("Users/$a2->{id}", { schemas => [URN_USER], userName => 'Unique.One@example.com' }),
              409, 'uniqueness', 'PUT renaming onto another userName -> 409 uniqueness');
is_scim_error($t->patch_ops($a2->{id}, { op => 'replace', path => 'userName', value => 'unique.one@EXAMPLE.com' }),
              409, 'uniqueness', 'PATCH renaming onto another userName -> 409 uniqueness');
is($t->get("Users/$a2->{id}")->{json}{userName}, 'unique.two@example.com', '... unchanged');

# -------------------------------------------------------------- primary

rejected(ubody(emails => [{ value => 'p1@example.com', primary => jtrue },
                          { value => 'p2@example.com', primary => jtrue }]), 'invalidValue',
         'two emails with primary true -> 400 invalidValue');
rejected(ubody(phoneNumbers => [{ value => '1', primary => jtrue }, { value => '2', primary => 'True' }]),
         'invalidValue', 'two phoneNumbers with primary true ("True" too) -> 400 invalidValue');
rejected(ubody(addresses => [{ locality => 'A', primary => jtrue }, { locality => 'B', primary => jtrue }]),
         'invalidValue', 'two addresses with primary true -> 400 invalidValue');
my $pu = created(ubody(emails => [{ value => 'p1@example.com', type => 'work', primary => jtrue },
                                  { value => 'p2@example.com', type => 'home', primary => jfalse }],
                       phoneNumbers => [{ value => '1', primary => jtrue }]),
                 'one primary per attribute -> 201');
my $puid = $pu->{id} // 'none';
$r = $t->put("Users/$puid", { schemas => [URN_USER], userName => $pu->{userName},
                              emails => [{ value => 'p1@example.com', primary => jtrue },
                                         { value => 'p2@example.com', primary => jtrue }] });
is_scim_error($r, 400, 'invalidValue', 'PUT with two primary emails -> 400 invalidValue');
$r = $t->patch_ops($puid, { op => 'add', path => 'emails',
                            value => [{ value => 'p3@example.com', primary => jtrue },
                                      { value => 'p4@example.com', primary => jtrue }] });
is_scim_error($r, 400, 'invalidValue', 'PATCH add of two primary values at once -> 400 invalidValue');
$r = $t->patch_ops($puid, { op => 'add', path => 'emails', value => [{ value => 'p5@example.com', primary => jtrue }] });
is_scim_json($r, 200, 'PATCH add of a new primary email -> 200');
my @prim = grep { is_jtrue($_->{primary}) } @{ $r->{json}{emails} // [] };
is(scalar(@prim), 1, '... exactly one primary afterwards (RFC 7644 3.5.2: the others are demoted)');
is(($prim[0] // {})->{value}, 'p5@example.com', '... the new one');
$r = $t->patch_ops($puid, { op => 'replace', path => 'emails[value eq "p2@example.com"].primary', value => jtrue });
is_scim_json($r, 200, 'PATCH replace emails[value eq "p2"].primary true -> 200');
@prim = grep { is_jtrue($_->{primary}) } @{ $r->{json}{emails} // [] };
is(join(',', map { $_->{value} } @prim), 'p2@example.com', '... p2 is now the only primary');

# ----------------------------------------------------- PATCH edge cases

my $pe = created(ubody(name => { givenName => 'Pat', familyName => 'Edge' }, nickName => 'pe',
                       emails => [{ value => 'pe@example.com', type => 'work' }],
                       phoneNumbers => [{ value => '555-1', type => 'work' }],
                       $VX => { costCode => 'CC-9', tier => 'silver' }, schemas => [URN_USER, $VX]),
                 'a user for PATCH edge cases');
my $peid = $pe->{id} // 'none';
sub pe_doc { $t->get("Users/$peid")->{json} // {} }
my $v0 = pe_doc()->{meta}{version};

# noTarget
for my $c ([ 'remove', 'emails[type eq "home"]', undef, 'remove emails[type eq "home"] (no match)' ],
           [ 'remove', 'phoneNumbers[type eq "fax" and value co "9"]', undef,
             'remove phoneNumbers[type eq "fax" and value co "9"] (no match)' ],
           [ 'replace', 'emails[value co "nomatch"].type', 'home',
             'replace emails[value co "nomatch"].type (no match, not an eq filter)' ],
           [ 'replace', 'emails[type eq "work" and value sw "zzz"]', { value => 'z@example.com' },
             'replace emails[type eq "work" and value sw "zzz"] (no match)' ],
           [ 'remove', 'emails[value ew ".org"].display', undef, 'remove emails[value ew ".org"].display (no match)' ])
{
    my ($op, $path, $value, $name) = @$c;
    $r = $t->patch_ops($peid, { op => $op, path => $path, defined $value ? (value => $value) : () });
    is_scim_error($r, 400, 'noTarget', "$name -> 400 noTarget");
}
is(pe_doc()->{meta}{version}, $v0, 'the noTarget PATCHes changed nothing');
is_scim_error($t->patch_ops($peid, { op => 'remove' }), 400, 'noTarget',
              'remove without a path -> 400 noTarget (RFC 7644 3.5.2.2)');

# Entra's paths stay lenient
$r = $t->patch_ops($peid, { op => 'replace', path => 'emails[type eq "home"].value', value => 'home@example.com' });
is_scim_json($r, 200, 'Entra: replace emails[type eq "home"].value with no home email -> 200, created');
is(scim_get_path($r->{json}, 'emails[type eq "home"].value'), 'home@example.com', '... the home email');
$r = $t->patch_ops($peid, { op => 'add', path => 'phoneNumbers[type eq "mobile"].value', value => '555-2' });
is_scim_json($r, 200, 'Entra: add phoneNumbers[type eq "mobile"].value -> 200, created');
my $grp = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Edge Group' })->{json}{id} // 'none';
$r = $t->patch("Groups/$grp", patch_body({ op => 'remove', path => 'members[value eq "00000000-0000-4000-8000-000000000000"]' }));
ok($r->{status} == 200 || $r->{status} == 204,
   'Entra: remove members[value eq "<not a member>"] -> 200/204 (idempotent)')
    or diag("HTTP $r->{status} $r->{content}");

# required attributes
is_scim_error($t->patch_ops($peid, { op => 'remove', path => 'userName' }), 400, undef,
              'remove userName (required) -> 400');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => 'userName', value => '' }), 400, undef,
              'replace userName with "" -> 400');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => 'userName', value => undef }), 400, undef,
              'replace userName with null -> 400');
is_scim_error($t->patch_ops($peid, { op => 'remove', path => "$VX:costCode" }), 400, undef,
              'remove a required extension attribute -> 400');
is_scim_error($t->patch("Groups/$grp", patch_body({ op => 'remove', path => 'displayName' })), 400, undef,
              'remove Group displayName (required) -> 400');
is(pe_doc()->{userName}, $pe->{userName}, 'userName still there');

# complex values merged
$r = $t->patch_ops($peid, { op => 'add', path => 'name', value => { middleName => 'M' } });
is_scim_json($r, 200, 'add name {middleName} -> 200');
is_deeply($r->{json}{name}, { givenName => 'Pat', familyName => 'Edge', middleName => 'M' },
          'add to a complex attribute merges (RFC 7644 3.5.2.1)');
$r = $t->patch_ops($peid, { op => 'add', value => { name => { honorificPrefix => 'Dr.' } } });
is_deeply(($r->{json} // {})->{name},
          { givenName => 'Pat', familyName => 'Edge', middleName => 'M', honorificPrefix => 'Dr.' },
          'add without path: the complex value merges too');
$r = $t->patch_ops($peid, { op => 'replace', path => 'name', value => { givenName => 'Patricia' } });
is_deeply(($r->{json} // {})->{name},
          { givenName => 'Patricia', familyName => 'Edge', middleName => 'M', honorificPrefix => 'Dr.' },
          'replace of a complex attribute keeps unspecified sub-attributes (RFC 7644 3.5.2.3)');
$r = $t->patch_ops($peid, { op => 'add', path => 'emails', value => [{ value => 'more@example.com', type => 'other' }] });
is(scalar(@{ ($r->{json} // {})->{emails} // [] }), 3, 'add to a multi-valued attribute appends');
$r = $t->patch_ops($peid, { op => 'add', path => 'emails', value => [{ value => 'more@example.com', type => 'other' }] });
is(scalar(@{ ($r->{json} // {})->{emails} // [] }), 3, 'adding an identical value again does not duplicate it');
$r = $t->patch_ops($peid, { op => 'replace', path => 'emails', value => [{ value => 'only@example.com', type => 'work' }] });
is_deeply(($r->{json} // {})->{emails}, [{ value => 'only@example.com', type => 'work' }],
          'replace of a multi-valued attribute replaces all values');
$r = $t->patch_ops($peid, { op => 'replace', path => 'title', value => 'New Title' });
is(($r->{json} // {})->{title}, 'New Title', 'replace of an absent attribute adds it');

# atomic
my $before = pe_doc();
$r = $t->patch_ops($peid, { op => 'replace', path => 'nickName', value => 'changed' },
                          { op => 'remove', path => 'userName' });
is_scim_error($r, 400, undef, 'two operations, the second invalid -> 400');
is(pe_doc()->{nickName}, $before->{nickName}, '... the first one was not applied (atomic)');
is(pe_doc()->{meta}{version}, $before->{meta}{version}, '... version unchanged');

# malformed PATCH requests
is_scim_error($t->patch_ops($peid, { op => 'replace', path => 'emails[type eq', value => 'x' }),
              400, 'invalidPath', 'malformed path -> 400 invalidPath');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => 'name..givenName', value => 'x' }),
              400, 'invalidPath', 'path name..givenName -> 400 invalidPath');
is_scim_error($t->patch_ops($peid, { op => 'frobnicate', path => 'nickName', value => 'x' }),
              400, undef, 'unknown op -> 400');
is_scim_error($t->patch_ops($peid, { op => 'add', path => 'nickName' }), 400, undef, 'add without value -> 400');
is_scim_error($t->patch("Users/$peid", { schemas => [URN_PATCH] }), 400, undef, 'no Operations -> 400');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => 'active', value => 'maybe' }), 400, 'invalidValue',
              'PATCH a boolean with "maybe" -> 400 invalidValue');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => "$VX:level", value => 'high' }), 400, 'invalidValue',
              'PATCH an integer with "high" -> 400 invalidValue');
is_scim_error($t->patch_ops($peid, { op => 'replace', path => "$VX:tier", value => 'bronze' }), 400, 'invalidValue',
              'PATCH outside canonicalValues -> 400 invalidValue');
$r = $t->patch_ops($peid, { op => 'Replace', path => 'nickName', value => 'Entra' });
is_scim_json($r, 200, 'op in any case ("Replace", Entra) -> 200');

$t->finish;

#!/usr/bin/perl

# PATCH /Groups/{id} as Entra sends it (issue 3; research Q3, Q4, 2.G):
# Add members with one or many values ($ref: null), Remove members as a
# value list (removes only those: a strict server would remove all) and
# as members[value eq "id"], Remove members without a value (all),
# Replace members, Replace displayName / externalId (indexes move), one
# PATCH mixing a rename with adds and removes; ops in any case; adding
# twice / removing an absent member is no error.  Answers 204 No Content,
# or 200 with the group when the request names attributes or
# excludedAttributes.  Errors change nothing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $T = 'acme';
my $P = "scim:{$T}:";
my $BASE = "http://127.0.0.1:$port/scim/v2";
my @_users;        # every user of this file (members_are checks them all)

$t->write_config($t->standard_conf);
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub new_user {
    my (%o) = @_;
    my $r = $t->create_user(entra_user(%o));
    return $r->{json}{id} // 'no-such-user';
}

sub new_group {
    my ($name, %o) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP, URN_ADSCIM_GROUP],
                                 displayName => $name,
                                 meta => { resourceType => 'Group' }, %o });
    is_scim_json($r, 201, "create group $name") unless $o{quiet};
    return $r->{json}{id} // 'no-such-group';
}

sub gpatch {
    my ($gid, @ops) = @_;
    my $q = '';
    $q = '?' . shift(@ops) if @ops && !ref $ops[0];
    return $t->patch("Groups/$gid$q", patch_body(@ops));
}

# one assertion: 204, no body
sub is_204 {
    my ($r, $name) = @_;
    my $ok = ok(($r->{status} // 0) == 204 && ($r->{content} // '') eq '', $name);
    diag("HTTP $r->{status}\n" . ($r->{content} // '')) unless $ok;
    return $ok;
}

sub member_ids { $t->redis_members($P, $_[0]) // [] }
sub user_groups { $t->redis_groups_of($P, $_[0]) // [] }

sub api_members {
    my ($gid) = @_;
    my $r = $t->get("Groups/$gid");
    return [ 'GET failed: ' . $r->{status} ] unless $r->{status} == 200;
    return [ sort map { $_->{value} // '' } @{ $r->{json}{members} // [] } ];
}

# the group's members as the API and as Redis (both directions) see them
sub members_are {
    my ($gid, $want, $name) = @_;
    my @w = sort @$want;
    my @why;
    my $api = api_members($gid);
    push @why, "GET members: (@$api)" unless "@$api" eq "@w";
    my $set = member_ids($gid);
    push @why, "Redis member set: (@$set)" unless "@$set" eq "@w";
    my %in = map { $_ => 1 } @w;
    for my $u (@_users) {
        my $has = $t->redis_has_group($P, $u, $gid) // -1;
        push @why, "User:$u:groups " . ($has ? 'has' : 'lacks') . " the group"
            if $has != ($in{$u} ? 1 : 0);
    }
    ok(!@why, $name) or diag(join("\n", "expected (@w)", @why));
}

@_users = map { new_user(displayName => "Member $_") } 0 .. 9;
my @u = @_users;
my $ghost = '0f0f0f0f-0000-4000-8000-00000000dead';

my $gid = new_group('Sales', externalId => 'ext-sales');
members_are($gid, [], 'new group: no members');
my $ver0 = $t->get("Groups/$gid")->{headers}{etag} // '';

# --------------------------------------------------- Add (Q4)

my $r = gpatch($gid, { op => 'Add', path => 'members',
                       value => [ { '$ref' => undef, value => $u[0] } ] });
is_204($r, 'Add one member ($ref null) -> 204 No Content');
ok(!exists $r->{headers}{'content-length'} || $r->{headers}{'content-length'} eq '0',
   '... no body announced') or diag explain $r->{headers};
members_are($gid, [ $u[0] ], 'member added (GET, member set, reverse set)');
my $g = $t->get("Groups/$gid");
isnt($g->{headers}{etag} // '', $ver0, 'the group\'s version changed');
is_deeply([ map { $_->{value} } @{ $t->get("Users/$u[0]")->{json}{groups} // [] } ], [ $gid ],
          'the user\'s groups attribute lists the group');

$r = gpatch($gid, { op => 'Add', path => 'members',
                    value => [ map { { '$ref' => undef, value => $_ } } @u[1 .. 4] ] });
is_204($r, 'Add four members in one op -> 204');
members_are($gid, [ @u[0 .. 4] ], 'five members');

$r = gpatch($gid, { op => 'Add', path => 'members', value => [ { value => $u[0] }, { value => $u[1] } ] });
is_204($r, 'Add members already there -> 204 (not an error)');
members_are($gid, [ @u[0 .. 4] ], 'still five members');

$r = gpatch($gid, { op => 'Add', path => 'members', value => [ { value => $u[5] }, { value => $u[5] } ] });
is_204($r, 'Add the same new member twice in one op -> 204');
members_are($gid, [ @u[0 .. 5] ], 'six members');

$r = gpatch($gid, { op => 'Add', path => 'members', value => [ { value => $u[6] } ] },
                  { op => 'Add', path => 'members', value => [ { value => $u[7] } ] });
is_204($r, 'two Add ops in one PATCH -> 204');
members_are($gid, [ @u[0 .. 7] ], 'eight members');

# batches of 10 and more values in one op (Entra sends several per PATCH)
{
    my @b = map { new_user(displayName => "Batch $_") } 0 .. 13;
    push @_users, @b;
    my $bg = new_group('Batch');
    $r = gpatch($bg, { op => 'Add', path => 'members', value => [ map { { '$ref' => undef, value => $_ } } @b ] });
    is_204($r, 'Add 14 members in one op -> 204');
    members_are($bg, \@b, 'all 14 added');
    $r = gpatch($bg, { op => 'Remove', path => 'members', value => [ map { { value => $_ } } @b[0 .. 11] ] });
    is_204($r, 'Remove 12 members as a value list -> 204');
    members_are($bg, [ @b[12, 13] ], 'exactly those 12 removed');
    $r = gpatch($bg, { op => 'Replace', path => 'members', value => [ map { { value => $_ } } @b[0 .. 10] ] });
    is_204($r, 'Replace members with 11 -> 204');
    members_are($bg, [ @b[0 .. 10] ], 'members are exactly the 11');
    $r = gpatch($bg, { op => 'Replace', path => 'displayName', value => 'Batch 2' },
                     { op => 'Add', path => 'members', value => [ map { { value => $_ } } @b[11 .. 13] ] },
                     { op => 'Remove', path => 'members', value => [ map { { value => $_ } } @b[0 .. 9] ] });
    is_204($r, 'rename + Add 3 + Remove 10 in one PATCH -> 204');
    members_are($bg, [ @b[10 .. 13] ], 'members after the mixed batch');
    is($t->get("Groups/$bg?excludedAttributes=members")->{json}{displayName}, 'Batch 2', 'renamed');
}

# ------------------------------------------- Remove as a value list (Q3)

$r = gpatch($gid, { op => 'Remove', path => 'members', value => [ { value => $u[2] } ] });
is_204($r, 'Remove with path members and a value list of one -> 204');
members_are($gid, [ @u[0, 1, 3 .. 7] ], 'only that member removed (Entra default, Q3)');

$r = gpatch($gid, { op => 'Remove', path => 'members',
                    value => [ { value => $u[3] }, { value => $u[4] } ] });
is_204($r, 'Remove a value list of two -> 204');
members_are($gid, [ @u[0, 1, 5 .. 7] ], 'only those two removed');

$r = gpatch($gid, { op => 'Remove', path => 'members', value => [ { value => $u[9] } ] });
is_204($r, 'Remove a member that is not in the group -> 204 (not an error)');
members_are($gid, [ @u[0, 1, 5 .. 7] ], 'nothing changed');

$r = gpatch($gid, { op => 'Remove', path => 'members', value => [ { value => $ghost } ] });
is_204($r, 'Remove an id that exists nowhere -> 204');
members_are($gid, [ @u[0, 1, 5 .. 7] ], 'nothing changed');

$r = gpatch($gid, { op => 'Remove', path => 'members',
                    value => [ { value => $u[9] }, { value => $u[7] } ] });
is_204($r, 'Remove a list with one absent and one present member -> 204');
members_are($gid, [ @u[0, 1, 5, 6] ], 'the present one removed');

# ------------------------------------- Remove members[value eq "id"]

$r = gpatch($gid, { op => 'Remove', path => qq(members[value eq "$u[6]"]) });
is_204($r, 'Remove members[value eq "id"] -> 204');
members_are($gid, [ @u[0, 1, 5] ], 'only that member removed');

$r = gpatch($gid, { op => 'Remove', path => qq(members[value eq "$u[9]"]) });
is_204($r, 'Remove members[value eq "<absent>"] -> 204 (not an error)');
members_are($gid, [ @u[0, 1, 5] ], 'nothing changed');

# --------------------------------------------------- ops in any case

for my $c (['add', 'remove'], ['ADD', 'REMOVE'], ['aDd', 'rEmOvE']) {
    my ($add, $rem) = @$c;
    $r = gpatch($gid, { op => $add, path => 'members', value => [ { value => $u[8] } ] });
    is_204($r, "op \"$add\" -> 204");
    members_are($gid, [ @u[0, 1, 5, 8] ], "op \"$add\" added the member");
    $r = gpatch($gid, { op => $rem, path => 'members', value => [ { value => $u[8] } ] });
    is_204($r, "op \"$rem\" -> 204");
    members_are($gid, [ @u[0, 1, 5] ], "op \"$rem\" removed only that member");
}
$r = gpatch($gid, { op => 'Add', path => 'Members', value => [ { Value => $u[8] } ] });
is_204($r, 'path "Members" and sub-attribute "Value" in other case -> 204');
members_are($gid, [ @u[0, 1, 5, 8] ], '... added');
$r = gpatch($gid, { op => 'Remove', path => qq(members[Value eq "$u[8]"]) });
is_204($r, 'Remove members[Value eq "id"] -> 204');
members_are($gid, [ @u[0, 1, 5] ], '... removed');

# ------------------------------------------------- Replace members

$r = gpatch($gid, { op => 'Replace', path => 'members',
                    value => [ { value => $u[5] }, { value => $u[6] }, { value => $u[7] } ] });
is_204($r, 'Replace members -> 204');
members_are($gid, [ @u[5 .. 7] ], 'members are exactly the new list (old reverse entries gone)');

$r = gpatch($gid, { op => 'REPLACE', path => 'members', value => [ { value => $u[0] } ] });
is_204($r, 'REPLACE members with one -> 204');
members_are($gid, [ $u[0] ], 'one member');

$r = gpatch($gid, { op => 'replace', path => 'members', value => [] });
is_204($r, 'replace members with [] -> 204');
members_are($gid, [], 'no members');

# ---------------------------------------------- Remove members (all)

gpatch($gid, { op => 'Add', path => 'members', value => [ map { { value => $_ } } @u[0 .. 5] ] });
members_are($gid, [ @u[0 .. 5] ], 'six members again');
$r = gpatch($gid, { op => 'Remove', path => 'members' });
is_204($r, 'Remove members without a value -> 204');
members_are($gid, [], 'all members removed, every reverse entry too');
is($t->redis_nmembers($P, $gid), 0, 'member set empty');
$r = gpatch($gid, { op => 'Remove', path => 'members' });
is_204($r, 'Remove members of an empty group -> 204');

# ------------------------------------- Replace displayName / externalId

gpatch($gid, { op => 'Add', path => 'members', value => [ { value => $u[0] }, { value => $u[1] } ] });
$r = gpatch($gid, { op => 'Replace', path => 'displayName', value => 'Sales EMEA' });
is_204($r, 'Replace displayName -> 204');
$g = $t->get("Groups/$gid");
is($g->{json}{displayName}, 'Sales EMEA', 'GET shows the new name');
members_are($gid, [ @u[0, 1] ], 'members untouched by the rename');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales'), undef, 'old name left idx:displayName');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales emea'), $gid, 'new name in idx:displayName');
is($t->redis_cmd('HGET', "${P}Group:display", $gid), 'Sales EMEA', 'Group:display follows');
is_list_response($t->get('Groups?' . qs(filter => 'displayName eq "Sales"')), 0, 0,
                 'filter on the old name: nothing');
is_list_response($t->get('Groups?' . qs(filter => 'displayName eq "sales emea"')), 1, 1,
                 'filter on the new name (other case): found');
is((($t->get("Users/$u[0]")->{json}{groups} // [])->[0] // {})->{display}, 'Sales EMEA',
   'the member\'s groups[].display shows the new name');
is_scim_json($t->post('Groups', { schemas => [URN_GROUP], displayName => 'SALES' }), 201,
             'the old name is free again');

$r = gpatch($gid, { op => 'replace', path => 'externalId', value => 'ext-sales-2' });
is_204($r, 'replace externalId -> 204');
is($t->get("Groups/$gid")->{json}{externalId}, 'ext-sales-2', 'GET shows the new externalId');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-sales'), [], 'old externalId left the index');
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-sales-2'), [$gid], 'new externalId indexed');
is_list_response($t->get('Groups?' . qs(filter => 'externalId eq "ext-sales"')), 0, 0,
                 'filter on the old externalId: nothing');
is_list_response($t->get('Groups?' . qs(filter => 'externalId eq "ext-sales-2"')), 1, 1,
                 'filter on the new externalId: found');

# Remove externalId (RFC 7644 3.5.2.2): a non-member op on a group
my $xg = new_group('Remove Ext', externalId => 'ext-remove-me');
$r = gpatch($xg, { op => 'Remove', path => 'externalId' });
is_204($r, 'Remove externalId -> 204');
ok(!exists $t->get("Groups/$xg")->{json}{externalId}, 'externalId gone from the group')
    or diag $t->get("Groups/$xg")->{content};
is_deeply($t->redis_ext_ids("${P}", 'Group', 'ext-remove-me'), [],
   'externalId left idx:externalId');
is_list_response($t->get('Groups?' . qs(filter => 'externalId eq "ext-remove-me"')), 0, 0,
                 'filter on the removed externalId: nothing');

# without a path, the value's keys are the attributes
$r = gpatch($xg, { op => 'Replace', value => { displayName => 'Remove Ext 2', externalId => 'ext-x2' } });
is_204($r, 'Replace without path {displayName, externalId} -> 204');
$g = $t->get("Groups/$xg?excludedAttributes=members");
is($g->{json}{displayName}, 'Remove Ext 2', '... displayName replaced');
is($g->{json}{externalId}, 'ext-x2', '... externalId replaced');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'remove ext 2'), $xg, '... name indexed');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'remove ext'), undef, '... old name gone');

$r = gpatch($gid, { op => 'Replace', path => 'displayName', value => 'sales emea' });
is_204($r, 'rename to the same name in other case -> 204');
is($t->get("Groups/$gid")->{json}{displayName}, 'sales emea', 'new spelling kept');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales emea'), $gid, 'index entry kept');

# ------------------------- one PATCH: rename + adds + removes (2.G (7))

$r = gpatch($gid,
    { op => 'Replace', path => 'displayName', value => 'Sales Global' },
    { op => 'Add', path => 'members', value => [ { '$ref' => undef, value => $u[2] },
                                                 { '$ref' => undef, value => $u[3] } ] },
    { op => 'Remove', path => 'members', value => [ { value => $u[0] } ] },
    { op => 'Remove', path => qq(members[value eq "$u[1]"]) });
is_204($r, 'one PATCH: Replace displayName + Add two + Remove (both shapes) -> 204');
$g = $t->get("Groups/$gid");
is($g->{json}{displayName}, 'Sales Global', 'renamed');
members_are($gid, [ @u[2, 3] ], 'adds and removes applied');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales emea'), undef, 'old name left the index');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales global'), $gid, 'new name indexed');

$r = gpatch($gid,
    { op => 'Add', path => 'members', value => [ { value => $u[4] } ] },
    { op => 'Remove', path => 'members', value => [ { value => $u[4] } ] });
is_204($r, 'Add then Remove of one member in one PATCH -> 204');
members_are($gid, [ @u[2, 3] ], 'ops applied in order: the member is not in');

$r = gpatch($gid,
    { op => 'Remove', path => 'members', value => [ { value => $u[2] } ] },
    { op => 'Add', path => 'members', value => [ { value => $u[2] } ] });
is_204($r, 'Remove then Add of one member in one PATCH -> 204');
members_are($gid, [ @u[2, 3] ], 'ops applied in order: the member is in');

$r = gpatch($gid,
    { op => 'Remove', path => 'members' },
    { op => 'Add', path => 'members', value => [ { value => $u[5] } ] });
is_204($r, 'Remove all then Add one in one PATCH -> 204');
members_are($gid, [ $u[5] ], 'only the added member is left');

# ------------------------------ 200 with the group when asked for it

$r = gpatch($gid, 'attributes=displayName',
            { op => 'Add', path => 'members', value => [ { value => $u[6] } ] });
is_scim_json($r, 200, 'PATCH ?attributes=displayName -> 200 with the group');
is($r->{json}{id}, $gid, '... id');
is($r->{json}{displayName}, 'Sales Global', '... displayName');
ok(!exists $r->{json}{members}, '... no members (not asked for)');
members_are($gid, [ @u[5, 6] ], 'and the PATCH was applied');

$r = gpatch($gid, 'excludedAttributes=members',
            { op => 'Replace', path => 'displayName', value => 'Sales World' },
            { op => 'Add', path => 'members', value => [ { value => $u[7] } ] });
is_scim_json($r, 200, 'PATCH ?excludedAttributes=members -> 200 with the group');
is($r->{json}{displayName}, 'Sales World', '... the new displayName');
is($r->{json}{externalId}, 'ext-sales-2', '... externalId');
ok(!exists $r->{json}{members}, '... no members');
is($r->{json}{meta}{location}, "$BASE/Groups/$gid", '... meta.location');
is_deeply($r->{json}, $t->get("Groups/$gid?excludedAttributes=members")->{json},
          '... the same as a GET with excludedAttributes=members');
members_are($gid, [ @u[5 .. 7] ], 'and the PATCH was applied');

$r = gpatch($gid, 'attributes=members',
            { op => 'Remove', path => 'members', value => [ { value => $u[5] } ] });
is_scim_json($r, 200, 'PATCH ?attributes=members -> 200');
is_deeply([ sort map { $_->{value} // '' } @{ $r->{json}{members} // [] } ], [ sort @u[6, 7] ],
          '... with the members after the PATCH');

# ------------------------------------------- errors change nothing

my $before = $t->get("Groups/$gid")->{json};
my @mbefore = @u[6, 7];

$r = gpatch($gid, { op => 'Add', path => 'members', value => [ { value => $u[8] }, { value => $ghost } ] });
is_scim_error($r, 400, 'invalidValue', 'Add an unknown member id -> 400 invalidValue');
members_are($gid, \@mbefore, 'nothing added (not even the valid one)');

$r = gpatch($gid,
    { op => 'Replace', path => 'displayName', value => 'Renamed By Failure' },
    { op => 'Add', path => 'members', value => [ { value => $ghost } ] });
is_scim_error($r, 400, 'invalidValue', 'rename + unknown member -> 400 invalidValue');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'renamed by failure'), undef,
   'the rename was not applied to the index');

$r = gpatch($gid, { op => 'Replace', path => 'members', value => [ { value => 'junk id' } ] });
ok($r->{status} == 400, 'Replace members with a junk id -> 400') or diag $r->{content};
members_are($gid, \@mbefore, 'members kept');

my $other = new_group('Marketing');
$r = gpatch($gid, { op => 'Replace', path => 'displayName', value => 'MARKETING' });
is_scim_error($r, 409, 'uniqueness', 'rename to a taken name (other case) -> 409 uniqueness');
$r = gpatch($gid, { op => 'Replace', path => 'displayName', value => 'Marketing 2' },
                  { op => 'Add', path => 'members', value => [ { value => $u[9] } ] },
                  { op => 'Replace', path => 'displayName', value => 'marketing' });
is_scim_error($r, 409, 'uniqueness', 'rename + add + rename to a taken name -> 409');
members_are($gid, \@mbefore, 'the add in the failed PATCH was not applied');

is_deeply($t->get("Groups/$gid")->{json}, $before, 'the failed PATCHes changed nothing');
is($t->redis_cmd('HGET', "${P}Group:idx:displayName", 'sales world'), $gid, 'index intact');

is_scim_error(gpatch($ghost, { op => 'Add', path => 'members', value => [ { value => $u[0] } ] }),
              404, undef, 'member PATCH of an unknown group -> 404');
is($t->redis_nmembers($P, $ghost), 0, '... no member set created');
is($t->redis_has_group($P, $u[0], $ghost), 0, '... no reverse entry created');
is_scim_error(gpatch($ghost, { op => 'Replace', path => 'displayName', value => 'Ghost' }),
              404, undef, 'rename of an unknown group -> 404');
is_scim_error(gpatch($ghost, { op => 'Remove', path => 'members' }),
              404, undef, 'Remove all members of an unknown group -> 404');

is_scim_error(gpatch($gid, { op => 'Jump', path => 'members', value => [ { value => $u[0] } ] }),
              400, undef, 'unknown op -> 400');
is_scim_error(gpatch($gid, { op => 'Remove', path => 'displayName' }),
              400, undef, 'Remove the required displayName -> 400');
is($t->get("Groups/$gid?excludedAttributes=members")->{json}{displayName}, 'Sales World',
   '... displayName kept');
members_are($gid, \@mbefore, 'members still as before');

# Entra's own request bodies, byte for byte (TUT)
my $raw = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"' . $u[9] . '"}]}]}';
$r = $t->patch("Groups/$gid", $raw);
is_204($r, 'Entra\'s Add member body (literal) -> 204');
$raw = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"' . $u[9] . '"}]}]}';
$r = $t->patch("Groups/$gid", $raw);
is_204($r, 'Entra\'s Remove member body (literal) -> 204');
members_are($gid, \@mbefore, 'only that member came and went');
$raw = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"Sales 1"}]}';
is_204($t->patch("Groups/$gid", $raw), 'Entra\'s rename body (literal) -> 204');
is($t->get("Groups/$gid?excludedAttributes=members")->{json}{displayName}, 'Sales 1', 'renamed');

$t->finish;

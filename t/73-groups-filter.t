#!/usr/bin/perl

# Filters and paging on /Groups (issue 3; research 2.G (1), Q18):
# displayName eq (case-insensitive) and externalId eq are index lookups,
# id eq, members.value eq "id" (the groups holding a member, users and
# nested groups alike) and, on /Users, groups.value eq "gid" (the users in
# a group) - all without a full scan: the location sets
# scim_filter_max_scan 5 below the number of groups and users, so a scan
# would answer 400 tooMany (checked with a filter that needs one).
# excludedAttributes=members with a filter (Entra's lookup); paging like
# /Users; tenants see only their own groups and members.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
my $port = $t->port;
my $T = 'acme';
my $P = "scim:{$T}:";
my $O = '/other/scim/v2';

$t->write_config($t->standard_conf(extra => '        scim_filter_max_scan 5;',
                                   server_extra => <<'EOF'));
    location /other/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant other;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_max_results 200;
    }
EOF
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub new_user {
    my ($base, %o) = @_;
    my $r = $t->post("$base/Users", entra_user(%o));
    diag("create user: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json}{id} // 'no-such-user';
}

sub new_group {
    my ($base, $name, %o) = @_;
    my @m = @{ delete $o{members} // [] };
    my $r = $t->post("$base/Groups", { schemas => [URN_GROUP, URN_ADSCIM_GROUP], displayName => $name,
                                       members => [ map { { value => $_ } } @m ], %o });
    diag("create group $name: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json}{id} // 'no-such-group';
}

sub glist { my ($q, $base) = @_; $t->get(($base // '/scim/v2') . "/Groups?$q") }
sub ulist { my ($q, $base) = @_; $t->get(($base // '/scim/v2') . "/Users?$q") }
sub ids_of { [ sort map { $_->{id} // '' } @{ $_[0]{json}{Resources} // [] } ] }

# one assertion: a ListResponse holding exactly these ids
sub finds {
    my ($r, $want, $name) = @_;
    my @w = sort @$want;
    my @why;
    push @why, "HTTP $r->{status}: $r->{content}" unless $r->{status} == 200;
    my $got = ids_of($r);
    push @why, "ids (@$got), expected (@w)" unless "@$got" eq "@w";
    push @why, 'totalResults ' . ($r->{json}{totalResults} // 'absent') . ', expected ' . scalar @w
        unless ($r->{json}{totalResults} // -1) == @w;
    push @why, 'schemas is not ListResponse'
        unless grep { $_ eq URN_LIST } @{ $r->{json}{schemas} // [] };
    ok(!@why, $name) or diag(join("\n", @why));
}

# 8 users, 8 groups (scan bound is 5)
my @u = map { new_user('/scim/v2', displayName => "User $_") } 0 .. 7;
my @g;
push @g, new_group('/scim/v2', 'Team 0', externalId => 'ext-team-0', members => [ @u[0, 1, 2] ]);
push @g, new_group('/scim/v2', 'Team 1', externalId => 'ext-team-1', members => [ @u[0, 3] ]);
push @g, new_group('/scim/v2', 'Team 2', externalId => 'ext-team-2', members => [ $u[0] ]);
push @g, new_group('/scim/v2', 'Team 3', externalId => 'ext-team-3', members => []);
push @g, new_group('/scim/v2', 'Team 4', externalId => 'ext-team-4', members => [ $u[4], $g[0] ]);
push @g, new_group('/scim/v2', 'Team 5', externalId => 'ext-team-5', members => [ $g[0], $g[1] ]);
push @g, new_group('/scim/v2', 'Équipe Ünïcode', externalId => 'ext-team-6', members => [ $u[5] ]);
push @g, new_group('/scim/v2', 'Team "Quoted"', externalId => 'ext-team-7', members => [ $u[6] ]);
is($t->redis_cmd('ZCARD', "${P}Group:ids"), 8, '8 groups, 8 users: more than scim_filter_max_scan 5');

# control: a filter that needs a scan is refused at this size
is_scim_error(glist(qs(filter => 'displayName co "Team"')), 400, 'tooMany',
              'control: displayName co (a scan of 8 > 5) -> 400 tooMany');
is_scim_error(ulist(qs(filter => 'displayName co "User"')), 400, 'tooMany',
              'control: /Users displayName co (a scan) -> 400 tooMany');

# ------------------------------------------------ displayName eq

finds(glist(qs(filter => 'displayName eq "Team 1"')), [ $g[1] ], 'displayName eq "Team 1"');
finds(glist(qs(filter => 'displayName eq "team 1"')), [ $g[1] ], 'displayName eq, lower case');
finds(glist(qs(filter => 'displayName eq "TEAM 1"')), [ $g[1] ], 'displayName eq, upper case');
finds(glist(entra_filter_qs('displayName', 'Team 2')), [ $g[2] ], 'Entra encoding filter=displayName+eq+%22...%22');
finds(glist(qs(filter => 'displayName eq "équipe ünïcode"')), [ $g[6] ], 'displayName eq, non-ASCII, other case');
finds(glist(qs(filter => 'displayName eq "Team \"Quoted\""')), [ $g[7] ], 'displayName eq with escaped quotes');
finds(glist(qs(filter => 'displayName eq "Team"')), [], 'displayName eq a prefix: nothing');
finds(glist(qs(filter => 'displayName eq "Nobody"')), [], 'displayName eq unknown: nothing');

# Entra's lookup (2.G (1)): excludedAttributes=members, 0 or 1 result
my $r = glist(entra_filter_qs('displayName', 'Team 0') . '&excludedAttributes=members');
finds($r, [ $g[0] ], 'GET /Groups?excludedAttributes=members&filter=displayName eq "Team 0"');
my $res = (($r->{json}{Resources} // [])->[0]) // {};
ok(!exists $res->{members}, '... no members in the resource');
is($res->{displayName}, 'Team 0', '... displayName');
is($res->{externalId}, 'ext-team-0', '... externalId');
ok(defined $res->{meta}{location}, '... meta');
$r = glist('excludedAttributes=members&' . entra_filter_qs('displayName', 'Nobody'));
finds($r, [], 'Entra lookup of an unknown name: empty ListResponse');
is_list_response($r, 0, 0, '... a well-formed one');

$r = glist(qs(filter => 'displayName eq "Team 0"'));
$res = (($r->{json}{Resources} // [])->[0]) // {};
is_deeply([ sort map { $_->{value} } @{ $res->{members} // [] } ], [ sort @u[0, 1, 2] ],
          'without excludedAttributes the members are listed');

# ------------------------------------------------ externalId eq, id eq

finds(glist(qs(filter => 'externalId eq "ext-team-3"')), [ $g[3] ], 'externalId eq');
finds(glist(entra_filter_qs('externalId', 'ext-team-4') . '&excludedAttributes=members'), [ $g[4] ],
      'externalId eq, Entra encoding, excludedAttributes=members');
finds(glist(qs(filter => 'externalId eq "ext-team-99"')), [], 'externalId eq unknown: nothing');
finds(glist(qs(filter => qq(id eq "$g[5]"))), [ $g[5] ], 'id eq');
finds(glist(qs(filter => 'id eq "0f0f0f0f-0000-4000-8000-00000000dead"')), [], 'id eq unknown: nothing');
finds(glist(qs(filter => qq(id eq "$u[0]"))), [], 'id eq <a user id> on /Groups: nothing');

# ------------------------------------------------ members.value eq

finds(glist(qs(filter => qq(members.value eq "$u[0]"))), [ @g[0, 1, 2] ],
      'members.value eq <user in three groups>');
finds(glist(qs(filter => qq(members.value eq "$u[3]"))), [ $g[1] ], 'members.value eq <user in one group>');
finds(glist(qs(filter => qq(members.value eq "$u[7]"))), [], 'members.value eq <user in no group>: nothing');
finds(glist(qs(filter => 'members.value eq "0f0f0f0f-0000-4000-8000-00000000dead"')), [],
      'members.value eq <unknown id>: nothing');
finds(glist(qs(filter => qq(members.value eq "$g[0]"))), [ @g[4, 5] ],
      'members.value eq <nested group>: its parents');
finds(glist(qs(filter => qq(members.value eq "$g[1]"))), [ $g[5] ],
      'members.value eq <another nested group>');
finds(glist(qs(filter => qq(members[value eq "$u[0]"]))), [ @g[0, 1, 2] ],
      'members[value eq "id"] (value path form)');
$r = glist(qs(filter => qq(members.value eq "$u[0]"), excludedAttributes => 'members'));
finds($r, [ @g[0, 1, 2] ], 'members.value eq with excludedAttributes=members');
ok(!grep({ exists $_->{members} } @{ $r->{json}{Resources} // [] }), '... the resources carry no members');
$r = glist(qs(filter => qq(members.value eq "$u[0]"), attributes => 'displayName'));
is_deeply([ sort map { $_->{displayName} // '' } @{ $r->{json}{Resources} // [] } ],
          [ 'Team 0', 'Team 1', 'Team 2' ], 'members.value eq with attributes=displayName');

# the filter follows membership changes
is($t->patch("/scim/v2/Groups/$g[3]", patch_body({ op => 'Add', path => 'members',
    value => [ { value => $u[0] } ] }))->{status}, 204, 'add u0 to Team 3');
finds(glist(qs(filter => qq(members.value eq "$u[0]"))), [ @g[0 .. 3] ], 'members.value eq sees the add');
is($t->patch("/scim/v2/Groups/$g[0]", patch_body({ op => 'Remove', path => 'members',
    value => [ { value => $u[0] } ] }))->{status}, 204, 'remove u0 from Team 0');
finds(glist(qs(filter => qq(members.value eq "$u[0]"))), [ @g[1 .. 3] ], 'members.value eq sees the remove');

# ------------------------------------------------ /Users groups.value eq

finds(ulist(qs(filter => qq(groups.value eq "$g[0]"))), [ @u[1, 2] ], '/Users groups.value eq <group>');
finds(ulist(qs(filter => qq(groups.value eq "$g[1]"))), [ @u[0, 3] ], '/Users groups.value eq <other group>');
finds(ulist(qs(filter => qq(groups.value eq "$g[4]"))), [ $u[4] ],
      '/Users groups.value eq <group with a user and a group>: only the user');
finds(ulist(qs(filter => qq(groups.value eq "$g[5]"))), [], '/Users groups.value eq <group of groups>: nothing');
finds(ulist(qs(filter => qq(groups.value eq "$g[3]"))), [ $u[0] ], '/Users groups.value eq <Team 3>');
finds(ulist(qs(filter => 'groups.value eq "0f0f0f0f-0000-4000-8000-00000000dead"')), [],
      '/Users groups.value eq <unknown>: nothing');
finds(ulist(qs(filter => qq(groups[value eq "$g[1]"]))), [ @u[0, 3] ], '/Users groups[value eq "gid"]');
$r = ulist(qs(filter => qq(groups.value eq "$g[1]"), attributes => 'userName'));
ok(!grep({ exists $_->{groups} || !defined $_->{userName} } @{ $r->{json}{Resources} // [] }),
   'groups.value eq with attributes=userName: userName only');

# the counts work with count=0 (totalResults only)
$r = ulist(qs(filter => qq(groups.value eq "$g[1]"), count => 0));
is_list_response($r, 2, 0, 'groups.value eq with count=0: totalResults 2');
$r = glist(qs(filter => qq(members.value eq "$u[0]"), count => 0));
is_list_response($r, 3, 0, 'members.value eq with count=0: totalResults 3');
$r = glist(qs(filter => qq(members.value eq "$u[0]"), count => 2));
is_list_response($r, 3, 2, 'members.value eq with count=2: a page of 2, totalResults 3');

# deletes: the filters forget deleted groups and users
is($t->delete("/scim/v2/Groups/$g[2]")->{status}, 204, 'DELETE Team 2');
finds(glist(qs(filter => qq(members.value eq "$u[0]"))), [ @g[1, 3] ], 'members.value eq forgets the deleted group');
finds(ulist(qs(filter => qq(groups.value eq "$g[2]"))), [], 'groups.value eq <deleted group>: nothing');
is($t->delete("/scim/v2/Users/$u[3]")->{status}, 204, 'DELETE u3');
finds(ulist(qs(filter => qq(groups.value eq "$g[1]"))), [ $u[0] ], 'groups.value eq forgets the deleted user');
finds(glist(qs(filter => qq(members.value eq "$u[3]"))), [], 'members.value eq <deleted user>: nothing');
finds(glist(qs(filter => 'displayName eq "Team 2"')), [], 'displayName eq <deleted group>: nothing');
finds(glist(qs(filter => 'externalId eq "ext-team-2"')), [], 'externalId eq <deleted group>: nothing');

# ------------------------------------------------- paging (tenant other)

my @ou = map { new_user($O, displayName => "Other $_") } 0 .. 2;
my @og = map { new_group($O, sprintf('Page %02d', $_), members => [ @ou[0 .. $_ % 3] ]) } 0 .. 11;
$r = glist('', $O);
is_list_response($r, 12, 12, 'GET /Groups (tenant other): 12 groups');
is_deeply([ map { $_->{id} } @{ $r->{json}{Resources} // [] } ], \@og, 'in creation order');
ok(!grep({ ($_->{displayName} // '') =~ /^Team/ } @{ $r->{json}{Resources} // [] }),
   'no group of tenant acme');
my @mcount = map { scalar @{ $_->{members} // [] } } @{ $r->{json}{Resources} // [] };
is_deeply(\@mcount, [ map { $_ % 3 + 1 } 0 .. 11 ], 'list resources carry their members');
for my $c ([1, 5, 5], [6, 5, 5], [11, 5, 2], [12, 5, 1], [13, 5, 0], [1000, 5, 0]) {
    my ($si, $n, $want) = @$c;
    $r = glist(qs(startIndex => $si, count => $n), $O);
    is_list_response($r, 12, $want, "startIndex=$si&count=$n: $want groups, totalResults 12");
    is($r->{json}{startIndex}, $si, "startIndex=$si echoed");
    is_deeply([ map { $_->{id} } @{ $r->{json}{Resources} // [] } ],
              [ $want ? @og[$si - 1 .. $si + $want - 2] : () ], "startIndex=$si: the right groups");
}
is_list_response(glist(qs(count => 0), $O), 12, 0, 'count=0: totalResults only');
is_list_response(glist(qs(startIndex => 0, count => 3), $O), 12, 3, 'startIndex=0 is treated as 1');
$r = glist(qs(startIndex => 4, count => 4, excludedAttributes => 'members'), $O);
is_list_response($r, 12, 4, 'a page with excludedAttributes=members');
ok(!grep({ exists $_->{members} } @{ $r->{json}{Resources} // [] }), '... no members in any resource');
$t->redis_cmd('CONFIG', 'RESETSTAT');
$r = glist(qs(excludedAttributes => 'members'), $O);
my %calls;
for my $l (split /\r?\n/, $t->redis_cmd('INFO', 'commandstats') // '') {
    $calls{$1} = $2 if $l =~ /^cmdstat_([^:]+):calls=(\d+)/;
}
is_list_response($r, 12, 12, 'list of 12 with excludedAttributes=members');
ok(!$calls{smembers} && !$calls{sscan} && !$calls{zrangebylex} && !$calls{zlexcount}, '... reads no member set') or diag explain \%calls;

# -------------------------------------- member ids compare ignoring case

# members.value and groups.value are caseExact false (RFC 7643): an id in
# upper case finds the same groups and members (a scan compares ignoring
# case too: t/unit/test_filter.c)
{
    my $lower = ids_of(glist(qs(filter => qq(members.value eq "$u[0]"))));
    ok(@$lower > 0, 'members.value eq <id>: some groups');
    finds(glist(qs(filter => qq(members.value eq "${\ uc $u[0]}"))), $lower,
          'members.value eq <UPPER-CASE id>: the same groups (index)');
}
finds(ulist(qs(filter => qq(groups.value eq "${\ uc $g[1]}"))),
      [ sort map { $_ } @{ ids_of(ulist(qs(filter => qq(groups.value eq "$g[1]")))) } ],
      'groups.value eq <UPPER-CASE id>: the same users');
{
    my $gx = new_group('/scim/v2', 'Case Team');
    is($t->patch("/scim/v2/Groups/$gx",
                 patch_body({ op => 'Add', path => 'members', value => [ { value => uc $u[5] } ] }))->{status},
       204, 'add a member by its UPPER-CASE id -> 204');
    finds(glist(qs(filter => qq(members.value eq "$u[5]" and displayName eq "Case Team"))), [ $gx ],
          '... stored as the lower-case id');
    is($t->patch("/scim/v2/Groups/$gx",
                 patch_body({ op => 'Remove', path => qq(members[value eq "${\ uc $u[5]}"]) }))->{status},
       204, 'remove it by its UPPER-CASE id -> 204');
    finds(glist(qs(filter => qq(members.value eq "$u[5]" and displayName eq "Case Team"))), [],
          '... gone');
}

# ------------------------------------------------------- tenants apart

finds(glist(qs(filter => 'displayName eq "Team 1"'), $O), [], 'tenant other: acme\'s group name not found');
finds(glist(qs(filter => qq(id eq "$g[1]")), $O), [], 'tenant other: acme\'s group id not found');
finds(glist(qs(filter => qq(members.value eq "$u[0]")), $O), [], 'tenant other: members.value eq acme\'s user: nothing');
finds(ulist(qs(filter => qq(groups.value eq "$g[1]")), $O), [], 'tenant other: groups.value eq acme\'s group: nothing');
finds(glist(qs(filter => qq(members.value eq "$ou[0]"))), [], 'tenant acme: members.value eq other\'s user: nothing');
is_scim_error($t->get("$O/Groups/$g[1]"), 404, undef, 'tenant other: GET acme\'s group -> 404');
is_scim_error($t->post('/scim/v2/Groups', { schemas => [URN_GROUP], displayName => 'Cross',
                                            members => [ { value => $ou[0] } ] }),
              400, 'invalidValue', 'acme group with other\'s user as member -> 400 invalidValue');
is_scim_error($t->patch("/scim/v2/Groups/$g[1]", patch_body({ op => 'Add', path => 'members',
                                                                value => [ { value => $og[0] } ] })),
              400, 'invalidValue', 'adding other\'s group to an acme group -> 400 invalidValue');
is_scim_json($t->post("$O/Groups", { schemas => [URN_GROUP], displayName => 'Team 1' }), 201,
             'the same displayName in another tenant is no conflict');

$t->finish;

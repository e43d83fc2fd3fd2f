#!/usr/bin/perl

# Data integrity (issue 11): a manager must be a user of the tenant when
# it is set (POST, PUT, PATCH, Bulk: 400 invalidValue, nothing written);
# deleting a user clears it as the manager of its reports, in the same
# script (store/lua/delete.lua): their documents lose the manager, at a
# new version and lastModified, and User:reports (the reverse of
# User:manager) stays exact; group cycles of any length are refused
# with 400 invalidValue.  t/lib/ScimCheck.pm checks the tenant after each
# part.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;
use ScimCheck;

my $t = ScimTest->new(workers => 2);
my $T = 'acme';
my $P = "scim:{$T}:";
my $ENT = URN_ENT;

$t->write_config($t->standard_conf(tenant => $T));
$t->start_nginx_ok;

sub consistent {
    my ($what) = @_;
    my ($problems) = ScimCheck::check_tenant($t, $T, get => sub { $t->get($_[0]) });
    is_deeply($problems, [], "ScimCheck after $what") or diag join "\n", @$problems;
}

sub user {
    my ($name, %o) = @_;
    my $r = $t->create_user(entra_user(userName => "$name\@example.com",
                                       displayName => ucfirst $name, %o));
    return $r->{json}{id} // "none-$name";
}

sub mgr_of {
    my ($id) = @_;
    my $u = $t->get("Users/$id")->{json} // {};
    return ($u->{$ENT} // {})->{manager};
}

# ------------------------------------------------ a manager must exist

my $boss = user('boss');
my $r = $t->post('Users', entra_user(userName => 'lost@example.com',
                                     $ENT => { manager => { value => 'no-such-user' } }));
is_scim_error($r, 400, 'invalidValue', 'POST with a manager that is no user: 400');
like($r->{json}{detail} // '', qr/manager "no-such-user" is no user/, '... says which');
is_list_response($t->list(filter => 'userName eq "lost@example.com"'), 0, 0,
                 '... nothing stored');

my $ann = user('ann', $ENT => { department => 'Ops', manager => { value => $boss } });
is(mgr_of($ann)->{value}, $boss, 'POST with an existing manager: set');
is_scim_error($t->put("Users/$ann", entra_user(userName => 'ann@example.com',
                                                $ENT => { manager => 'ghost' })),
              400, 'invalidValue', 'PUT with a manager that is no user: 400');
is_scim_error($t->patch_ops($ann, { op => 'replace', path => "$ENT:manager",
                                    value => $ann }),
              400, 'invalidValue', 'PATCH making the user its own manager: 400');
my $grp = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'Not a user' })->{json}{id};
is_scim_error($t->patch_ops($ann, { op => 'replace', path => 'manager', value => $grp }),
              400, 'invalidValue', 'PATCH with a group as manager: 400');
is(mgr_of($ann)->{value}, $boss, '... the manager unchanged');
$r = $t->post('Bulk', { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                        Operations => [ { method => 'POST', path => '/Users', bulkId => 'b1',
                                          data => entra_user(userName => 'bulk@example.com',
                                                             $ENT => { manager => 'ghost' }) },
                                        { method => 'POST', path => '/Users', bulkId => 'b2',
                                          data => entra_user(userName => 'bulk2@example.com',
                                                             $ENT => { manager => $boss }) } ] });
is_deeply([ map { $_->{status} } @{ $r->{json}{Operations} // [] } ], ['400', '201'],
          'Bulk: the op with an unknown manager 400, the other 201');
(my $bulk2 = $r->{json}{Operations}[1]{location} // 'none') =~ s{.*/}{};
consistent('the manager checks');

# --------------------------------- deleting a manager clears it in reports

my $bob = user('bob', $ENT => { manager => $boss });
my $cyd = user('cyd', $ENT => { employeeNumber => '7', costCenter => 'X',
                                 manager => { value => $bob } });
my $dee = user('dee');
$r = $t->patch_ops($dee, { op => 'add', path => 'manager', value => $bob });
is($r->{status}, 200, 'dee gets bob as manager by PATCH');
my %before = map { ($_ => $t->get("Users/$_")) } $ann, $bob, $cyd, $dee;
is(mgr_of($cyd)->{displayName}, 'Bob', "cyd's manager shown with bob's displayName");
is_deeply(scalar $t->redis_cmd('ZRANGEBYLEX', "${P}User:reports", "[$bob\0", "($bob\1"),
          [ sort "$bob\0$cyd", "$bob\0$dee" ], 'User:reports: bob\'s two reports');

sleep 1.1;     # lastModified has milliseconds; leave no doubt
is($t->del("Users/$bob")->{status}, 204, 'DELETE bob, manager of cyd and dee');
for my $x ([ 'cyd', $cyd ], [ 'dee', $dee ]) {
    my ($n, $id) = @$x;
    my $g = $t->get("Users/$id");
    is($g->{status}, 200, "$n is still there");
    ok(!defined mgr_of($id), "$n has no manager now");
    isnt($g->{headers}{etag}, $before{$id}{headers}{etag}, "$n: a new ETag");
    is($g->{json}{meta}{version}, $g->{headers}{etag}, "$n: meta.version is the ETag");
    cmp_ok($g->{json}{meta}{lastModified}, 'gt', $before{$id}{json}{meta}{lastModified},
           "$n: a later lastModified");
    is($g->{json}{meta}{created}, $before{$id}{json}{meta}{created}, "$n: created kept");
    is_scim_error($t->request('PATCH', "Users/$id",
                              body => patch_body({ op => 'replace', path => 'title',
                                                   value => 'y' }),
                              headers => { 'If-Match' => $before{$id}{headers}{etag} }),
                  412, undef, "$n: its ETag from before the delete is stale (412)");
}
is_deeply((mgr_of($ann) // {})->{value}, $boss, "ann (boss's report) keeps her manager");
my $c = $t->get("Users/$cyd")->{json};
is_deeply({ map { $_ => $c->{$ENT}{$_} } grep { $_ ne 'manager' } keys %{ $c->{$ENT} // {} } },
          { employeeNumber => '7', costCenter => 'X' },
          "cyd's other enterprise attributes kept");
ok(!exists $t->get("Users/$dee")->{json}{$ENT},
   "dee's enterprise block, which held only the manager, is gone");
is_list_response($t->list(filter => qq{$ENT:manager.value eq "$bob"}), 0, 0,
                 'filter manager.value eq bob: none');
is($t->redis_cmd('HGET', "${P}User:manager", $cyd), undef, 'User:manager: cyd out');
is_deeply(scalar $t->redis_cmd('ZRANGEBYLEX', "${P}User:reports", "[$bob\0", "($bob\1"), [],
          'User:reports: nothing under bob');
is_deeply(scalar $t->redis_cmd('ZRANGEBYLEX', "${P}User:reports", "[$boss\0", "($boss\1"),
          [ sort "$boss\0$ann", "$boss\0$bulk2" ],
          'User:reports: bob left boss\'s reports as well');
$r = $t->patch_ops($cyd, { op => 'add', path => 'manager', value => $boss });
is(mgr_of($cyd)->{value}, $boss, 'cyd can be given a manager again');
consistent('deleting a manager');

# ------------------------------------------------------ no group cycles

sub group {
    my ($name, @members) = @_;
    my $r = $t->post('Groups', { schemas => [URN_GROUP], displayName => $name,
                                 members => [ map { { value => $_ } } @members ] });
    is($r->{status}, 201, "group $name");
    return $r->{json}{id} // "none-$name";
}
sub members_of {
    my ($g) = @_;
    return [ sort map { $_->{value} } @{ $t->get("Groups/$g")->{json}{members} // [] } ];
}

my $ga = group('A', $ann);
my $gb = group('B', $ga);
my $gc = group('C', $gb, $cyd);

is_scim_error($t->patch("Groups/$ga", patch_body({ op => 'add', path => 'members',
                                                   value => [ { value => $gb } ] })),
              400, 'invalidValue', 'A holds B holds A: a cycle of 2 refused');
$r = $t->patch("Groups/$ga", patch_body({ op => 'add', path => 'members',
                                          value => [ { value => $dee }, { value => $gc } ] }));
is_scim_error($r, 400, 'invalidValue', 'A holds C (C > B > A): a cycle of 3 refused');
like($r->{json}{detail} // '', qr/\Q$gc\E.*cycle/, '... naming the group');
is_deeply(members_of($ga), [$ann], '... A unchanged, dee not added either');
is_scim_error($t->put("Groups/$ga", { schemas => [URN_GROUP], displayName => 'A',
                                       members => [ { value => $ann }, { value => $gc } ] }),
              400, 'invalidValue', 'PUT of A with C: refused');
is_scim_error($t->patch("Groups/$ga", patch_body({ op => 'add', path => 'members',
                                                   value => [ { value => $ga } ] })),
              400, 'invalidValue', 'A in A: refused (as before)');
my $gd = group('D', $gc);
is_scim_error($t->patch("Groups/$ga", patch_body({ op => 'replace', path => 'members',
                                                   value => [ { value => $gd } ] })),
              400, 'invalidValue', 'replace A\'s members with D (D > C > B > A): refused');
is_deeply(members_of($ga), [$ann], '... A unchanged');
my $ge = group('E', $ga, $gd);
is(scalar @{ members_of($ge) }, 2, 'E holds A and D (a diamond, no cycle)');
$r = $t->patch("Groups/$gb", patch_body({ op => 'add', path => 'members',
                                          value => [ { value => $ann } ] }));
ok($r->{status} == 200 || $r->{status} == 204, 'ann in A and B: no cycle');
$r = $t->post('Bulk', { schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
                        Operations => [ { method => 'PATCH', path => "/Groups/$gb",
                                          data => patch_body({ op => 'add', path => 'members',
                                                               value => [ { value => $ge } ] }) } ] });
is($r->{json}{Operations}[0]{status}, '400', 'Bulk: B holds E (E > D > C > B): 400');
is($t->del("Groups/$gb")->{status}, 204, 'DELETE B (the link between A and C)');
$r = $t->patch("Groups/$ga", patch_body({ op => 'add', path => 'members',
                                          value => [ { value => $gc } ] }));
ok($r->{status} == 200 || $r->{status} == 204, 'then A may hold C');
consistent('the group cycles');

$t->finish;

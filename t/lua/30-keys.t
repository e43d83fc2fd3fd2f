# Every key a script touches, as MONITOR sees its commands: declared in
# KEYS, or one of the keys lib.lua lists as built from data the script
# reads or decides (only in create, replace, delete, find, page, scan),
# and always within the tenant's hash tag {T} (one Redis Cluster slot).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');
my $p = $l->prefix;

# a resource's document or its sets, by an id: the data-dependent keys
my $DATA = qr/^\Q$p\E(?:User|Group):[0-9a-z-]+(?::groups|:members)?$/;

my %may_build = map { $_ => 1 } qw(create replace delete find page scan);

sub check {
    my ($what, $name, $keys, @argv) = @_;
    my ($r, $e, $touched) = $l->touched($name, $keys, @argv);
    ok(!defined $e, "$what: runs") or diag $e;
    ok(@$touched > 0, "$what: MONITOR saw its commands");
    my %declared = map { $_ => 1 } @$keys;
    my @out = grep { index($_, "scim:{t1}:") != 0 } @$touched;
    is_deeply(\@out, [], "$what: every key in {t1}");
    my @undeclared = grep { !$declared{$_} } @$touched;
    if ($may_build{$name}) {
        is_deeply([grep { $_ !~ $DATA } @undeclared], [],
                  "$what: undeclared keys are documents or their sets only");
    } else {
        is_deeply(\@undeclared, [], "$what: every key declared");
    }
    return $r;
}

sub create {
    my ($type, $id, $name, %o) = @_;
    my @add = @{ $o{members} // [] };
    my @em = @{ $o{emails} // [] };
    return check("create $type $id", 'create',
        [$l->shared, $l->key("$type:$id"), $l->key("$type:ids"),
         $l->key('seq'),
         $l->key($type eq 'User' ? 'User:idx:userName'
                                 : 'Group:idx:displayName'),
         $l->key("$type:idx:externalId"), $l->own_set($type, $id)],
        $id, $l->head($id, $name), lc $name, $o{ext} // '', $name, $p,
        $type, $o{manager} // '', scalar(@add), @add, scalar(@em), @em);
}

create('User', 'u1', 'Alice', emails => ['a@x.org'], ext => 'e1');
create('User', 'u2', 'Bob', manager => 'u1');
create('Group', 'g1', 'Inner', members => ['u1']);
create('Group', 'g2', 'Outer', members => ['u1', 'u2', 'g1']);

is_deeply(scalar check('replace with member changes', 'replace',
      [$l->shared, $l->key('Group:g2'), $l->key('seq'),
       $l->key('Group:idx:displayName'), $l->key('Group:idx:externalId'),
       $l->own_set('Group', 'g2')],
      'g2', '', '', '', '', '', '', '', '2026-02-02T00:00:00.000Z', $p,
      'Group', '', '1', 1, 'u2', 1, 'u2', 0, 0), [1, 5, undef],
      '... it wrote');
is_deeply(scalar check('replace a user', 'replace',
      [$l->shared, $l->key('User:u2'), $l->key('seq'),
       $l->key('User:idx:userName'), $l->key('User:idx:externalId'),
       $l->own_set('User', 'u2')],
      'u2', '', $l->head('u2', 'Bobby'), 'bob', 'bobby', '', 'e2', 'Bobby',
      '', $p, 'User', 'u1', '0', 0, 0, 0, 1, 'b@x.org'), [1, 6, 'Alice'],
      '... it wrote');

for my $type (qw(User Group)) {
    my $id = $type eq 'User' ? 'u1' : 'g2';
    check("get $type", 'get',
          [$l->shared, $l->key("$type:$id"), $l->own_set($type, $id)],
          $p, $type, $id, '1');
}
check('find', 'find', [$l->shared, $l->key('Group:idx:displayName')],
      'outer', $p, 'Group', '1');
check('find_email', 'find_email', [$l->key('User:idx:email')], 'a@x.org');
check('page', 'page', [$l->shared, $l->key('Group:ids')], 0, 10, $p,
      'Group', '1');
check('related', 'related',
      [$l->key('User:u1:groups'), $l->key('Group:u1:groups')]);
check('scan', 'scan', [$l->shared, $l->key('User:ids')], 0, 10, $p, 'User',
      '0', '[aA]', '"name":"', 65536, '1');
check('scan of candidates', 'scan', [$l->shared, $l->key('User:ids')], '',
      10, $p, 'User', '0', '', '', 65536, '1', 'u2', 'u1');
check('fetch', 'fetch',
      [$l->shared, $l->key('User:u1'), $l->own_set('User', 'u1'),
       $l->key('Group:g2'), $l->own_set('Group', 'g2')],
      $p, '1', 'User', 'u1', 'Group', 'g2');

is_deeply(scalar check('delete a user', 'delete',
      [$l->shared, $l->key('User:u1'), $l->key('User:ids'),
       $l->key('User:idx:userName'), $l->key('User:idx:externalId'),
       $l->key('User:u1:groups'), $l->own_set('User', 'u1')],
      'u1', '1', 'alice', 'e1', $p, 'User', 1, 'a@x.org'), [1],
      '... it deleted');
is_deeply(scalar check('delete a group', 'delete',
      [$l->shared, $l->key('Group:g2'), $l->key('Group:ids'),
       $l->key('Group:idx:displayName'), $l->key('Group:idx:externalId'),
       $l->key('Group:g2:groups'), $l->own_set('Group', 'g2')],
      'g2', '5', 'outer', '', $p, 'Group', 0), [1], '... it deleted');

# the check itself can fail: a key left out of KEYS is seen
my ($r, $e, $touched) = $l->touched('get',
    [$l->shared, $l->key('User:u2')], $p, 'User', 'u2', '0');
ok((grep { $_ eq $l->key('User:u2:groups') } @$touched),
   'a key missing from KEYS shows up as touched');

$t->finish;

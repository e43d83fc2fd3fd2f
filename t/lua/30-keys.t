# Every key a script touches, as MONITOR sees its commands, is declared
# in KEYS (the Redis Cluster precondition), whatever the data: layout 2
# gives a tenant a fixed set of keys, every script takes them all
# ($l->keys), and no script builds a key name.  Checked for every script,
# on data that makes them reach far: a user in several groups, nested
# groups, deletes of both, lookups through indexes, the ids zset and
# candidates.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $l = ScimLua->new($t, 't1');
my @K = $l->keys;

# one order of the keys in C, in lib.lua's table and here
{
    my $dir = ScimTest->repo . '/ngx_http_scim_module/store';
    my $c = ScimLua::slurp("$dir/ngx_scim_store.c");
    my ($arr) = $c =~ /ngx_scim_store_keys\[\] = \{(.*?)\};/s;
    my @c = ($arr // '') =~ /ngx_string\("([^"]+)"\)/g;
    my @lua = ScimLua::slurp("$dir/lua/lib.lua")
              =~ /^--\s+(\d+) (\S+)\s+(?:hash|zset|string|stream)\b/mg;
    my @ours = map { s/^\Q@{[$l->prefix]}\E//r } @K;
    is_deeply(\@c, \@ours, 'the KEYS order of ngx_scim_store_keys[] is ours');
    is_deeply([@lua[grep { $_ % 2 } 0 .. $#lua]], \@ours,
              "... and that of lib.lua's table");
    is_deeply([@lua[grep { !($_ % 2) } 0 .. $#lua]], [1 .. 17],
              '... numbered 1 to 17');
}

# the commands the scripts send, each with its one key first; another
# command fails the test (the parser below would not know its keys)
my %ONE_KEY = map { $_ => 1 } qw(GET SET INCR HGET HSET HSETNX HDEL HEXISTS HMGET
    ZADD ZREM ZCARD ZRANGE ZRANGEBYLEX ZREMRANGEBYLEX ZSCORE XADD
    XGROUP XACK XREADGROUP XPENDING XINFO XREVRANGE);

my %ran;

# (what, script, declared keys, ARGV...): the keys passed are always the
# tenant's; "declared" is what the check holds them to (the self-check at
# the end leaves one out)
sub check_against {
    my ($what, $name, $declared, @argv) = @_;
    my ($r, $e, $touched, $cmds) = touched($name, @argv);
    ok(!defined $e, "$what: runs") or diag $e;
    ok(@$touched > 0, "$what: MONITOR saw its commands");
    is_deeply([grep { !$ONE_KEY{$_} } @$cmds], [],
              "$what: only commands whose key the check knows");
    my %d = map { $_ => 1 } @$declared;
    my @undeclared = grep { !$d{$_} } @$touched;
    $ran{$name}++;
    return ($r, \@undeclared);
}

sub check {
    my ($what, $name, @argv) = @_;
    my ($r, $undeclared) = check_against($what, $name,
        [@K[0 .. ScimLua->nkeys_for($name, @argv) - 1]], @argv);
    is_deeply($undeclared, [], "$what: every key touched is declared");
    return $r;
}

sub touched {
    my ($name, @argv) = @_;
    my ($r, $e, $keys, $cmds) = $l->touched($name, [@K], @argv);
    return ($r, $e, $keys, $cmds);
}

sub create {
    my ($type, $id, $name, %o) = @_;
    my @add = @{ $o{members} // [] };
    my @em = @{ $o{emails} // [] };
    return check("create $type $id", 'create',
        $id, $l->head($id, $name), lc $name, $o{ext} // '', $name, $type,
        $o{manager} // '', scalar(@add), @add, scalar(@em), @em,
        $o{unique} ? '1' : '0');
}

is_deeply(create('User', 'u1', 'Alice', emails => ['a@x.org'], ext => 'e1'),
          [1, 1, undef], 'created');
create('User', 'u2', 'Bob', manager => 'u1');
create('User', 'u3', 'Carol');
create('Group', 'g1', 'Inner', members => ['u1', 'u3']);
create('Group', 'g2', 'Outer', members => ['u1', 'u2', 'g1']);
create('Group', 'g3', 'Top', members => ['g2', 'g1', 'u1']);
is_deeply($l->groups_of('g1'), ['g2', 'g3'], 'nested: g1 in g2 and g3');

is_deeply(scalar check('replace with a clear and member changes', 'replace',
      'g2', '', '', '', '', '', '', '', '2026-02-02T00:00:00.000Z',
      'Group', '', '1', 1, 'u2', 2, 'u2', 'g1', 0, 0, '1'), [1, 7, undef],
      '... it wrote');
is_deeply(scalar check('replace a user', 'replace',
      'u2', '', $l->head('u2', 'Bobby'), 'bob', 'bobby', '', 'e2', 'Bobby',
      '', 'User', 'u1', '0', 0, 0, 0, 1, 'b@x.org', '1'), [1, 8, 'Alice'],
      '... it wrote');

create('Group', 'g4', 'Ext', members => ['u2'], ext => 'ge1', unique => 1);

# with events on (lib.lua event()): the XADD on the 17th key
my @EV = ('100', 'replace', '2026-02-02T00:00:00.000Z', 'true', '["x"]');
is_deeply(scalar check('replace a group with an event', 'replace',
      'g4', '', '', '', '', '', '', '', '2026-02-02T00:00:00.000Z',
      'Group', '', '1', 0, 1, 'u3', 0, 0, '0', '', @EV), [1, 10, undef],
      '... it wrote');
is_deeply(scalar check('create with an event', 'create',
      'u9', $l->head('u9', 'Zed'), 'zed', '', 'Zed', 'User', 'u2', 0, 0,
      '0', @EV), [1, 11, 'Bobby'], '... it wrote');

for my $want ('0', '1') {
    check("get User ($want)", 'get', 'User', 'u1', $want);
    check("get User with a manager ($want)", 'get', 'User', 'u2', $want);
    check("find a user by name ($want)", 'find', 'bobby', 'User', $want);
    check("get Group ($want)", 'get', 'Group', 'g2', $want);
    check("find by name ($want)", 'find', 'outer', 'Group', $want);
    check("page of users ($want)", 'page', 0, 10, 'User', $want);
    check("page of groups ($want)", 'page', 0, 10, 'Group', $want);
    check("fetch ($want)", 'fetch', $want, 'User', 'u1', 'Group', 'g2',
          'Group', 'g1', 'User', 'gone');
}
check('find: none', 'find', 'nobody', 'User', '1');
# the feed: its group made, SETs delivered, some acknowledged
my $f = check('feed: a first poll', 'feed', 'g', 'c', 1, 'iss', 'aud', 0);
check('feed: an ack and a poll', 'feed', 'g', 'c', 5, 'iss', 'aud', 1,
      $f->[1] // '0-1');

check('slice: the first, with the group', 'slice', 'g2', '', 2, '1');
check('slice: after a member', 'slice', 'g2', 'g1', 1, '0');
check('slice: no such group', 'slice', 'gone', '', 10, '1');
check('find_ext of a group', 'find_ext', 'ge1', 'Group', '0');
check('find_ext of a group, with its members', 'find_ext', 'ge1', 'Group', '1');
check('find_ext of users', 'find_ext', 'e2', 'User', '0');
check('find_email', 'find_email', 'a@x.org');
check('related: members', 'related', 'User', 'g2');
check('related: groups', 'related', 'Group', 'g1');
for my $type (qw(User Group)) {
    check("scan of $type with a literal", 'scan', 0, 10, $type, '1', '[aA]',
          '"name":"', 65536, '1');
    check("scan of $type, ids", 'scan', 0, 10, $type, '1', '', '', 65536,
          '0');
}
check('scan of candidates', 'scan', '', 10, 'User', '0', '', '', 65536,
      '1', 'u2', 'u1', 'nope');

is_deeply(scalar check('delete a user in groups', 'delete',
      'u1', '1', 'alice', 'e1', 'User', 1, 'a@x.org',
      '2026-02-03T00:00:00.000Z', @EV), [1],
      '... it deleted');
is_deeply(scalar check('delete a nested group with members', 'delete',
      'g1', '4', 'inner', '', 'Group', 0), [1], '... it deleted');
is_deeply(scalar check('delete a group holding groups', 'delete',
      'g3', '6', 'top', '', 'Group', 0), [1], '... it deleted');
is_deeply($l->groups_of('g2'), [], '... g2 is in no group now');
is_deeply(scalar check('delete_id a user with a manager, a report, groups',
      'delete_id', 'u2', 'User', '', '2026-02-03T00:00:00.000Z',
      '100', 'delete', '2026-02-03T00:00:00.000Z', '', ''), [1],
      '... it deleted');
is_deeply(scalar check('delete_id a group with members', 'delete_id',
      'g4', 'Group', '10', '2026-02-03T00:00:00.000Z'), [1],
      '... it deleted');

# every script was checked
opendir(my $dh, ScimTest->repo . '/ngx_http_scim_module/store/lua') or die;
my @names = sort grep { $_ ne 'lib' } map { /^(\w+)\.lua$/ ? $1 : () }
            readdir($dh);
closedir($dh);
is_deeply([sort keys %ran], \@names, 'every script was checked');

# the check itself can fail: a key the script touches but the check does
# not count as declared is seen, for a key built in no script's text
my ($r, $undeclared) = check_against('self-check', 'get',
    [grep { $_ ne $l->key('memberof') } @K], 'User', 'u3', '0');
is_deeply($undeclared, [$l->key('memberof')],
          'a key missing from the declared ones shows up');

$t->finish;

# The embedded scripts (store/ngx_scim_lua.[ch]) are those of
# store/lua/*.lua, and Redis computes the SHA1 that EVALSHA uses; the
# function library holds every script, under the names the C table
# says, with the flags that fit (no-writes: the scripts that write
# nothing, and only those).

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use Digest::SHA qw(sha1_hex);
use ScimTest;
use ScimLua;

my $t = ScimTest->new(module => 0);
my $repo = ScimTest->repo;
my $store = "$repo/ngx_http_scim_module/store";

my $out = `perl $store/lua/gen.pl --check 2>&1`;
is($?, 0, 'store/ngx_scim_lua.[ch] are up to date (make lua)')
    or diag($out);

my $c = ScimLua::slurp("$store/ngx_scim_lua.c");
my %sha = $c =~ /"(\w+)",\s ngx_scim_lua_\w+,\s+ sizeof\(\w+\)\s-\s1,
                 \s+ "([0-9a-f]{40})"/xg;

opendir(my $dh, "$store/lua") or die;
my @names = sort grep { $_ ne 'lib' } map { /^(\w+)\.lua$/ ? $1 : () }
            readdir($dh);
closedir($dh);

ok(@names >= 10, 'one file per script: ' . join(' ', @names));
is_deeply([sort keys %sha], \@names, 'every script is embedded');

for my $name (@names) {
    my $src = ScimLua->source($name);
    is($sha{$name}, sha1_hex($src), "$name: embedded SHA1 of lib + script");
    is($t->redis_cmd('SCRIPT', 'LOAD', $src), $sha{$name},
       "$name: Redis loads it under that SHA1");
}

# the function library
my ($lib, $libname) = ScimLua->library;
(my $zero = $lib) =~ s/\Q$libname\E/scim_000000000000/g;
is($libname, 'scim_' . substr(sha1_hex($zero), 0, 12),
   'library name: scim_ and the SHA1 of its text with the hash zeroed');
like($c, qr/ngx_scim_lua_lib\[\] =\n    "#!lua name=$libname\\n"/,
     'the library is embedded');
my %fname = $c =~ /"(\w+)",\s ngx_scim_lua_\w+,\s+ sizeof\(\w+\)\s-\s1,
                   \s+ "[0-9a-f]{40}",\s+ "(\w+)"/xg;
is_deeply(\%fname, { map { $_ => "${libname}_$_" } @names },
          'each script: its function name in the C table');
is($t->redis_cmd('FUNCTION', 'LOAD', $lib), $libname, 'FUNCTION LOAD');
my ($dup, $dupe) = $t->redis_cmd('FUNCTION', 'LOAD', $lib);
like($dupe // '', qr/already exists/, 'a second LOAD without REPLACE fails');
is($t->redis_cmd('FUNCTION', 'LOAD', 'REPLACE', $lib), $libname,
   'FUNCTION LOAD REPLACE');
my $list = $t->redis_cmd('FUNCTION', 'LIST', 'LIBRARYNAME', $libname);
is(scalar @$list, 1, 'one library of that name');
my %l = @{ $list->[0] };
my %flags;
for my $f (@{ $l{functions} }) {
    my %f = @$f;
    $flags{$f{name}} = join(',', sort @{ $f{flags} });
}
my %writes = map { $_ => 1 } qw(create replace delete delete_id feed);
is_deeply(\%flags,
          { map { ("${libname}_$_" => $writes{$_}
                   ? ($_ =~ /^delete/ ? 'allow-oom' : '') : 'no-writes') }
            @names },
          'the functions and their flags') or diag explain \%flags;

# a write in a no-writes function fails: the flags are enforced, so a
# script that writes and is flagged no-writes fails its tests
(my $bad = $lib) =~ s/\Q$libname\E/scim_badbadbadbad/g;
my $get = "function_name = 'scim_badbadbadbad_get',\n"
          . "flags = {'no-writes'},\ncallback = function(keys, args)\n";
$bad =~ s/(\Q$get\E)/$1redis.call('SET', keys[1], 1)\n/
    or die 'no get in the library';
is($t->redis_cmd('FUNCTION', 'LOAD', $bad), 'scim_badbadbadbad', 'a copy');
my ($r, $e) = $t->redis_cmd('FCALL', 'scim_badbadbadbad_get', 5,
                            map({ "scim:{x}:$_" } 1 .. 5), 'User', 'u1', '0');
like($e // '', qr/Write commands are not allowed from read-only scripts/,
     '... whose get writes: refused') or diag $e;
$t->redis_cmd('FUNCTION', 'DELETE', 'scim_badbadbadbad');

# a stale file fails the check (on a copy: other tests read the scripts)
my $copy = $t->dir . '/store';
system('cp', '-r', $store, $copy) == 0 or die "cp: $?";
{
    open(my $fh, '>>', "$copy/lua/related.lua") or die;
    print $fh "-- touched by t/lua/00-generated.t\n";
    close($fh);
}
$out = `perl $copy/lua/gen.pl --check 2>&1`;
isnt($?, 0, 'the check fails when a script changed and C did not');
like($out, qr/stale/, '... and says so');

$t->finish;

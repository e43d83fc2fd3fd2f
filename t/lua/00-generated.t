# The embedded scripts (store/ngx_scim_lua.[ch]) are those of
# store/lua/*.lua, and Redis computes the SHA1 that EVALSHA uses.

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

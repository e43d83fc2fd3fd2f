#!/usr/bin/perl

# The build's own checks, which `make test` runs before the build:
# t/check-layers (forbidden includes, circles of calls among core/ files)
# and the generator of the built-in schemas (core/schemas/gen.pl: its C
# strings hold the JSON byte for byte).  Each is run on a small tree made
# here, that must pass or fail, and on the real tree.  Needs only Perl
# and a C compiler (skips the compiled part without one).

use strict;
use warnings;
use FindBin;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use Test::More;

my $top = "$FindBin::Bin/..";
my $src = "$top/ngx_http_scim_module";
my $check = "$top/t/check-layers";
my $gen = "$src/core/schemas/gen.pl";
my $tmp = tempdir(CLEANUP => 1);

sub put {
    my ($path, $text) = @_;
    (my $dir = $path) =~ s{/[^/]+$}{};
    make_path($dir);
    open my $fh, '>:raw', $path or die "$path: $!";
    print $fh $text;
    close $fh;
}

# the output and exit code of a command
sub run {
    my $out = `@_ 2>&1`;
    return ($? >> 8, $out);
}


# ---- check-layers

# check-layers on a made tree: the folders it has no sources for in the
# test get a file with nothing to object to
sub check_tree {
    my ($dir) = @_;
    for my $layer ('core', 'store', 'http') {
        put("$dir/$layer/empty.c", "int $layer\_empty;\n")
            unless -d "$dir/$layer";
    }
    return run('perl', $check, $dir);
}

my ($rc, $out) = run('perl', $check, $src);
is($rc, 0, 'the real tree passes check-layers') or diag $out;

my $fn = <<'EOF_C';
int
%s(void)
{
    return %s;
}
EOF_C

put("$tmp/a/core/x.c", qq{#include "x.h"\n\n} . sprintf($fn, 'x', '1'));
put("$tmp/a/core/y.c", sprintf($fn, 'y', 'x()'));
($rc, $out) = check_tree("$tmp/a");
is($rc, 0, 'a clean tree passes') or diag $out;

put("$tmp/b/core/x.c", qq{#include <ngx_core.h>\n} . sprintf($fn, 'x', '1'));
put("$tmp/b/core/y.h", qq{  #  include <hiredis/async.h>\n});
($rc, $out) = check_tree("$tmp/b");
is($rc, 1, 'nginx and hiredis headers in core/ fail');
like($out, qr{core/x\.c:1: core/ must not include <ngx_core\.h>},
     'the nginx include is named');
like($out, qr{core/y\.h:1: core/ must not include <hiredis/async\.h>},
     'the hiredis include is named');

# the store never includes HTTP; the glue only the other layers' public
# headers
put("$tmp/e/store/s.c", qq{#include <ngx_http.h>\n});
put("$tmp/e/http/h.c", qq{#include "scim_core.h"\n#include "ngx_scim_store.h"\n}
                       . qq{#include "scim_parse.h"\n#include <hiredis/async.h>\n}
                       . qq{#include "ngx_scim_redis.h"\n});
($rc, $out) = check_tree("$tmp/e");
is($rc, 1, 'a store with HTTP, a glue with hiredis and private headers fail');
like($out, qr{store/s\.c:1: store/ must not include <ngx_http\.h>},
     'the HTTP include of the store is named');
is(scalar(() = $out =~ m{^\S*http/h\.c:(\d+)}mg), 3,
   'the glue\'s three forbidden includes are named, its two allowed not')
    or diag $out;

put("$tmp/c/core/p.c", sprintf($fn, 'p', 'q()'));
put("$tmp/c/core/q.c", sprintf($fn, 'q', 'r()'));
put("$tmp/c/core/r.c", sprintf($fn, 'r', 'p()'));
($rc, $out) = check_tree("$tmp/c");
is($rc, 1, 'a circle of calls fails');
like($out, qr{calls in a circle: p\.c \(q\) -> q\.c \(r\) -> r\.c \(p\) -> p\.c},
     'the circle is named');

# names in comments and strings, and static functions of the same name,
# are not calls
put("$tmp/d/core/p.c", "/* q() */\n" . sprintf($fn, 'p', '"q()"[0]'));
put("$tmp/d/core/q.c", "static int\np(void)\n{\n    return 0;\n}\n"
                       . sprintf($fn, 'q', 'p()'));
($rc, $out) = check_tree("$tmp/d");
is($rc, 0, 'comments, strings, static functions: no circle') or diag $out;


# ---- the schema generator

($rc, $out) = run('perl', $gen);
is($rc, 0, 'gen.pl runs') or diag $out;

open my $fh, '<', "$src/core/scim_schemas_gen.c" or die $!;
my $committed = do { local $/; <$fh> };
close $fh;
ok($out eq $committed, 'scim_schemas_gen.c is what gen.pl prints');

put("$tmp/s/bad.json", "{\"a\": }\n");
($rc, $out) = run('perl', $gen, "$tmp/s");
isnt($rc, 0, 'invalid JSON fails');
like($out, qr{bad\.json}, 'the file is named');

unlink "$tmp/s/bad.json";
put("$tmp/s/list.json", "[1]\n");
($rc, $out) = run('perl', $gen, "$tmp/s");
isnt($rc, 0, 'a JSON array fails');

unlink "$tmp/s/list.json";

# every byte that needs care in a C string, and a line far too long
my $text = "{\n  \"q\": \"a \\\"quote\\\", a \\\\ backslash, ??= ??/ ??,\","
           . " \"u\": \"\xc3\xa9t\xc3\xa9 \xe2\x98\xba\",\n"
           . "  \"long\": \"" . join(' ', ('word') x 60)
           . ("x" x 100) . "\",\n\t\"tab\": 1\r\n}";
put("$tmp/s/zz_test.json", $text);
($rc, $out) = run('perl', $gen, "$tmp/s");
is($rc, 0, 'gen.pl on bytes that need escaping') or diag $out;

my @long = grep { length > 80 } split /\n/, $out;
is(scalar @long, 0, 'no generated line over 80 columns') or diag @long;

my $cc = $ENV{CC} // 'cc';

SKIP: {
    skip "no C compiler ($cc)", 1 unless `$cc --version 2>/dev/null`;

    put("$tmp/s/gen.c", $out =~ s/#include "scim_schema.h"\n//r);
    put("$tmp/s/main.c", <<'EOF_C');
#include <stdio.h>

extern const char  scim_schema_builtin_zz_test[];

int
main(void)
{
    fputs(scim_schema_builtin_zz_test, stdout);
    return 0;
}
EOF_C

    ($rc, $out) = run($cc, '-std=c99', '-Wall', '-Werror', '-o',
                      "$tmp/s/prog", "$tmp/s/main.c", "$tmp/s/gen.c");
    is($rc, 0, 'the generated C compiles (C99: trigraphs on)') or diag $out;

    my $back = `$tmp/s/prog`;
    ok($back eq $text, 'the C string holds the JSON byte for byte')
        or diag "got: $back";
}

done_testing();

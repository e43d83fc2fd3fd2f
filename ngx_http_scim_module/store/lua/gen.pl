#!/usr/bin/perl

# Embeds the store's Lua scripts into C: store/ngx_scim_lua.h (an index
# per script) and store/ngx_scim_lua.c (the text and the SHA1 of each
# script, with what it uses of lib.lua before it).  Both files are
# committed, so a build needs no Perl; `make lua` runs this, and `make
# test` runs it with --check (t/lua/00-generated.t), which fails when
# they are stale.
#
# Besides, one Redis 7 function library (FUNCTION LOAD, FCALL) holds them
# all: lib.lua once, at its top level, then each script registered as the
# function scim_<hash>_<script>, the library being scim_<hash> (<hash>:
# the first 12 hex digits of the SHA1 of the library's text in which the
# hash reads 000000000000), so that two builds of the module can share a
# Redis.  Its helpers are made once, when Redis loads it; the scripts'
# globals KEYS and ARGV are upvalues of the library that each function
# sets first (Redis runs one function at a time).  A script that writes
# nothing is flagged no-writes, delete allow-oom (see $FLAGS below).  The
# module calls the functions, and sends the texts above by EVALSHA only
# to a Redis that has no functions (ngx_scim_redis_fn.c).
#
# A script is prepended only the library functions it calls ("name(",
# outside comments), directly or through another one: Redis runs a script's whole text on every call, so
# each function it defines is a closure made per call.  A function is a
# top-level "local function <name>" up to its top-level "end", with the
# comment lines right above it; the rest of lib.lua is always kept.
#
#   perl store/lua/gen.pl [--check]     (from anywhere)
#   perl store/lua/gen.pl --body <name> the text a script runs as (tests)
#   perl store/lua/gen.pl --library     the function library (tests)

use strict;
use warnings;

use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Digest::SHA qw(sha1_hex);

my $check = @ARGV && $ARGV[0] eq '--check';
my $body_of = @ARGV == 2 && $ARGV[0] eq '--body' ? $ARGV[1] : undef;
my $library_only = @ARGV && $ARGV[0] eq '--library';

# the functions' flags (FUNCTION LOAD): those that write nothing are
# no-writes (run on a replica, and when Redis is out of memory); delete
# and delete_id allow-oom, as an EVAL of them ran when Redis was out of
# memory (the first write, an HDEL, is allowed then, and a script that
# wrote may go on);
# the others write (feed: XGROUP CREATE, XREADGROUP, XACK), so that Redis
# refuses them when out of memory, as it refused their first write
my %FLAGS = (
    create => [], replace => [], feed => [],
    delete => ['allow-oom'], delete_id => ['allow-oom'],
    map { ($_ => ['no-writes']) }
        qw(fetch find find_email find_ext get page related scan slice)
);

my $lua = dirname(abs_path(__FILE__));
my $store = dirname($lua);

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or die "$path: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh);
    return $text;
}

# a C string literal per line, 80 columns at most where the text allows
sub c_string {
    my ($text) = @_;
    my $out = '';

    for my $line (split /(?<=\n)/, $text) {
        my $s = '';
        for my $c (split //, $line) {
            my $o = ord($c);
            if ($c eq '\\' || $c eq '"') {
                $s .= "\\$c";
            } elsif ($c eq "\n") {
                $s .= '\n';
            } elsif ($o < 0x20 || $o > 0x7e) {
                $s .= sprintf('\\%03o', $o);
            } else {
                $s .= $c;
            }
        }
        $out .= "    \"$s\"\n";
    }

    return $out;
}

my $lib = slurp("$lua/lib.lua");

# lib.lua in pieces: [name, text] for a function, [undef, text] otherwise
sub pieces {
    my @p;
    my @lines = split /(?<=\n)/, $lib;
    my $i = 0;

    while ($i < @lines) {
        if ($lines[$i] =~ /^local function (\w+)/) {
            my $name = $1;
            my $text = '';

            # the comment lines right above it are its own
            while (@p && !defined $p[-1][0] && $p[-1][1] =~ /^--/) {
                $text = (pop @p)->[1] . $text;
            }

            while ($i < @lines) {
                $text .= $lines[$i];
                last if $lines[$i++] =~ /^end\b/;
            }

            push @p, [$name, $text];
            next;
        }

        push @p, [undef, $lines[$i++]];
    }

    return @p;
}

my @pieces = pieces();

sub body {
    my ($name) = @_;
    my $script = slurp("$lua/$name.lua");
    my %def = map { defined $_->[0] ? ($_->[0] => $_->[1]) : () } @pieces;
    my %need;
    my @todo = ($script);

    while (@todo) {
        (my $text = shift @todo) =~ s/--[^\n]*//g;
        for my $f (keys %def) {
            next if $need{$f} || $text !~ /(?<![\w.:])\Q$f\E\s*\(/;
            $need{$f} = 1;
            push @todo, $def{$f};
        }
    }

    return nkeys_check($name, $script)
           . join('', map { !defined $_->[0] || $need{$_->[0]} ? $_->[1] : () }
                      @pieces) . $script;
}

# a script's "--! keys n" or "--! keys m-n": it takes the first n of the
# tenant's keys, or the first m to n (the call says how many it needs):
# (m, n)
sub nkeys {
    my ($name, $script) = @_;
    my ($m, $n) = $script =~ /^--! keys (\d+)(?:-(\d+))?$/m;
    die "$name.lua: no \"--! keys n\" line\n" unless defined $m && $m > 0;
    $n //= $m;
    die "$name.lua: \"--! keys $m-$n\"\n" unless $n >= $m;
    return ($m, $n);
}

sub nkeys_check {
    my ($name, $script) = @_;
    my ($m, $n) = nkeys($name, $script);
    my $what = $m == $n ? "the first $n" : "the first $m to $n";
    return "if #KEYS < $m or #KEYS > $n then\n"
           . "  error('scim: $name takes $what of the tenant\\'s keys, "
           . "got ' .. #KEYS)\nend\n";
}

# the function library: (text, name), name "scim_<hash>"
sub library {
    my @names = @_;
    my $text = sub {
        my ($hash) = @_;
        my $t = "#!lua name=scim_$hash\n"
                . "-- Generated by store/lua/gen.pl from the scripts in "
                . "store/lua: do not edit.\n"
                . "-- The scripts' KEYS and ARGV, set first by each "
                . "function\n"
                . "local KEYS, ARGV\n\n" . $lib;
        for my $name (@names) {
            my $script = slurp("$lua/$name.lua");
            my $flags = $FLAGS{$name}
                        // die "$name.lua: no flags in gen.pl (\%FLAGS)\n";
            $t .= "\nredis.register_function{\n"
                  . "function_name = 'scim_${hash}_$name',\n"
                  . "flags = {" . join(', ', map { "'$_'" } @$flags)
                  . "},\n"
                  . "callback = function(keys, args)\n"
                  . "KEYS, ARGV = keys, args\n"
                  . nkeys_check($name, $script) . $script
                  . "end}\n";
        }
        return $t;
    };
    my $hash = substr(sha1_hex($text->('0' x 12)), 0, 12);
    return ($text->($hash), "scim_$hash");
}

if (defined $body_of) {
    die "no script $body_of\n" unless $body_of =~ /^\w+$/
                                     && -e "$lua/$body_of.lua";
    binmode(STDOUT);
    print body($body_of);
    exit 0;
}

opendir(my $dh, $lua) or die "$lua: $!\n";
my @names = sort map { /^(\w+)\.lua$/ && $1 ne 'lib' ? $1 : () } readdir($dh);
closedir($dh);

my ($library, $libname) = library(@names);

if ($library_only) {
    binmode(STDOUT);
    print $library;
    exit 0;
}

my $gen = "/*\n * Generated by store/lua/gen.pl from the scripts in store/lua:"
          . " do not edit.\n */\n";

my $h = "\n$gen\n#ifndef _NGX_SCIM_LUA_H_INCLUDED_\n"
        . "#define _NGX_SCIM_LUA_H_INCLUDED_\n\n\n"
        . "#include <ngx_config.h>\n#include <ngx_core.h>\n\n\n"
        . "typedef enum {\n";

for my $i (0 .. $#names) {
    $h .= '    NGX_SCIM_LUA_' . uc($names[$i])
          . ($i == 0 ? ' = 0' : '') . ",\n";
}

$h .= "    NGX_SCIM_LUA_N\n} ngx_scim_lua_e;\n\n\n"
      . "typedef struct {\n"
      . "    const char                 *name;\n"
      . "    const char                 *body;       /* what it uses of\n"
      . "                                                lib.lua, then the\n"
      . "                                                script */\n"
      . "    size_t                      len;\n"
      . "    const char                 *sha1;       /* of body, hex */\n"
      . "    const char                 *fname;      /* its function in\n"
      . "                                                the library */\n"
      . "    ngx_uint_t                  nkeys;      /* at most the first\n"
      . "                                                nkeys of the\n"
      . "                                                tenant's keys */\n"
      . "} ngx_scim_lua_t;\n\n\n"
      . "extern const ngx_scim_lua_t  ngx_scim_lua[NGX_SCIM_LUA_N];\n\n"
      . "/* the function library of them all (FUNCTION LOAD) */\n"
      . "extern const ngx_str_t  ngx_scim_lua_library;\n\n"
      . "#define NGX_SCIM_LUA_LIBRARY  \"$libname\"\n\n\n"
      . "#endif /* _NGX_SCIM_LUA_H_INCLUDED_ */\n";

my $c = "\n$gen\n\n#include <ngx_config.h>\n#include <ngx_core.h>\n\n"
        . "#include \"ngx_scim_lua.h\"\n\n\n";
my $table = "const ngx_scim_lua_t  ngx_scim_lua[NGX_SCIM_LUA_N] = {\n";

for my $name (@names) {
    my $body = body($name);
    my (undef, $nkeys) = nkeys($name, slurp("$lua/$name.lua"));

    $c .= "static const char  ngx_scim_lua_${name}[] =\n"
          . c_string($body) . "    ;\n\n\n";

    $table .= "    [NGX_SCIM_LUA_" . uc($name) . "] = {\n"
              . "        \"$name\", ngx_scim_lua_${name},\n"
              . "        sizeof(ngx_scim_lua_${name}) - 1,\n"
              . "        \"" . sha1_hex($body) . "\",\n"
              . "        \"${libname}_$name\", $nkeys },\n";
}

$c .= "static const char  ngx_scim_lua_lib[] =\n"
      . c_string($library) . "    ;\n\n\n"
      . $table . "};\n\n\n"
      . "const ngx_str_t  ngx_scim_lua_library = {\n"
      . "    sizeof(ngx_scim_lua_lib) - 1, (u_char *) ngx_scim_lua_lib\n"
      . "};\n";

my %out = ("$store/ngx_scim_lua.h" => $h, "$store/ngx_scim_lua.c" => $c);
my $stale = 0;

for my $path (sort keys %out) {
    my $old = -e $path ? slurp($path) : '';

    next if $old eq $out{$path};

    if ($check) {
        print STDERR "$path is stale: run 'make lua' and commit it\n";
        $stale = 1;
        next;
    }

    open(my $fh, '>:raw', "$path.tmp") or die "$path.tmp: $!\n";
    print $fh $out{$path};
    close($fh) or die "$path.tmp: $!\n";
    rename("$path.tmp", $path) or die "$path: $!\n";
    print "wrote $path\n";
}

exit $stale;

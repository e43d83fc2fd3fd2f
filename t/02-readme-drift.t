#!/usr/bin/perl

# README.md against the tree, so that it cannot drift unnoticed: its
# table of contents is the list of its "## " sections, in order; the
# package list of the quick start is the Makefile's DEB_PKGS; every test
# file it names exists; every t/NN-*.t file is in the Testing table (by
# its number, or its ten like `3x`); every directive the module defines
# has a row in the Directives table; every tool in tools/ is named.

use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";

sub slurp {
    my $f = shift;
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return scalar <$fh>;
}

my $readme = slurp("$top/README.md");

# ---- the table of contents

my @heads = $readme =~ /^## (.+)$/mg;
my ($toc) = $readme =~ /\n((?:- \[[^\]]+\]\(#[^)]+\)\n)+)/;
my @toc = ($toc // '') =~ /^- \[([^\]]+)\]/mg;
is_deeply(\@toc, \@heads, 'the table of contents lists every "## " section, in order');

for my $line (split /\n/, $toc // '') {
    my ($h, $a) = $line =~ /^- \[([^\]]+)\]\(#([^)]+)\)/ or next;
    (my $want = lc $h) =~ s/[^\w\- ]//g;
    $want =~ s/ /-/g;
    is($a, $want, "the anchor of \"$h\"");
}

# ---- the packages make deps installs

my $mk = slurp("$top/Makefile");
my ($pk) = $mk =~ /^DEB_PKGS\s*:?=\s*((?:[^\n]*\\\n)*[^\n]*)/m;
my @pkgs = grep { length } split /[\s\\]+/, $pk // '';
ok(@pkgs >= 10, 'DEB_PKGS read from the Makefile: ' . scalar @pkgs);
my ($sentence) = $readme =~ /It checks the packages `([^`]+)`/;
my %said = map { $_ => 1 } split /\s+/, $sentence // '';
is_deeply([sort keys %said], [sort @pkgs],
          'the quick start names exactly the packages of DEB_PKGS');

# ---- tests

my %named = map { $_ => 1 } $readme =~ m{\b(t/[\w./-]+\.t)\b}g;
for my $f (sort keys %named) {
    ok(-f "$top/$f", "README names $f: it exists");
}

my ($table) = $readme =~ /\n(  \| files \| area \|\n(?:  \|[^\n]*\n)+)/;
ok($table, 'the Testing table is there');
my %rows;
for my $cell (($table // '') =~ /^  \| ([^|]+) \|/mg) {
    $rows{$_} = 1 for $cell =~ /`(\w+)`/g;
}
opendir(my $dh, "$top/t") or die "t: $!";
for my $f (sort grep { /^\d\d-.*\.t$/ } readdir $dh) {
    my ($nn) = $f =~ /^(\d\d)/;
    my $ten = substr($nn, 0, 1) . 'x';
    ok($rows{$nn} || $rows{$ten}, "t/$f is in the Testing table ($nn or $ten)");
}
closedir $dh;

# ---- directives

my %directive;
for my $c (glob "$top/ngx_http_scim_module/http/*.c") {
    my $text = slurp($c);
    $directive{$_} = 1 for $text =~ /\{ ngx_string\("(scim[a-z_]*)"\),\n\s+NGX_/g;
}
ok(keys %directive >= 20, 'directives read from the sources: '
                          . scalar(keys %directive));
for my $d (sort keys %directive) {
    like($readme, qr/^\| `\Q$d\E[`; ]/m, "$d has a row in the Directives table");
}

# ---- tools

opendir($dh, "$top/tools") or die "tools: $!";
for my $f (sort grep { -f "$top/tools/$_" } readdir $dh) {
    like($readme, qr{tools/\Q$f\E\b}, "README names tools/$f");
}
closedir $dh;

done_testing();

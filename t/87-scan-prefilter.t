#!/usr/bin/perl

# Non-indexed filters skip the stored documents whose text cannot hold
# the filter's literal without parsing them: what they find must be
# exactly what evaluating every document finds.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1);
$t->write_config($t->standard_conf);
$t->start_nginx or BAIL_OUT('nginx did not start');

my %id;
sub mk {
    my ($name, %attr) = @_;
    my $r = $t->post('Users', { schemas => [URN_USER], userName => $name, %attr });
    is($r->{status}, 201, "create $name") or diag $r->{content};
    $id{$name} = $r->{json}{id} // 'none';
}

mk('plain',   title => 'Analyst', externalId => 'ext-1');
mk('xtitle',  title => 'Sphinx keeper');
mk('upper',   title => 'SPHINX Lead');
mk('quoted',  title => "say \"x\" \\ here");
mk('control', title => "line1\nx-ray");
mk('longs',   title => "\x{17f}phinx");            # long s folds to "s"
mk('mail',    title => 'Other', emails => [ { value => 'a@X-corp.test', type => 'work' },
                                             { value => 'b@home.test', type => 'home' } ]);
mk('none',    displayName => 'x marks');            # "x" only in another attribute

sub found {
    my ($filter, $want, $name) = @_;
    my $r = $t->list(filter => $filter, count => 100);
    my @got = sort map { $_->{userName} } @{ $r->{json}{Resources} // [] };
    is_deeply(\@got, [ sort @$want ], $name)
        or diag "HTTP $r->{status}: $r->{content}";
}

found('title co "x"', [qw(xtitle upper quoted control longs)],
      'title co "x": any case, escapes around it; not other attributes');
found('title sw "sphinx"', [qw(xtitle upper longs)],
      'title sw, ignoring case (U+017F, long s, folds to "s")');
found('title sw "s"', [qw(xtitle upper quoted longs)],
      'U+017F (long s) matches "s" though the text holds no "s" there');
found('title co "x-ray"', [qw(control)], 'next to an escaped newline');
found('emails.value co "x-corp"', [qw(mail)], 'a sub-attribute of a multi-valued complex');
found('title co "x" and userName sw "x"', [qw(xtitle)], 'and: two literals');
found('title co "x" or displayName co "marks"', [qw(xtitle upper quoted control longs none)],
      'or: no literal, every document evaluated');
found('title co "zzz"', [], 'a literal in no document');
found('title ew "keeper"', [qw(xtitle)], 'ew');
found('title eq "analyst"', [qw(plain)], 'eq, ignoring case');
found('emails[type eq "work"].value eq "A@x-corp.test"', [qw(mail)],
      "Entra's e-mail match (value path, then the value)");
found('emails[type eq "home"].value eq "a@x-corp.test"', [],
      '... the literal alone does not match: the bracket filter still holds');

$t->finish;

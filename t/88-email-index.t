#!/usr/bin/perl

# Entra's e-mail matching attribute, emails[type eq "work"].value eq "x",
# and emails.value eq "x" are answered from an index (a scan would be
# refused: scim_filter_max_scan 1), kept right through creates, e-mail
# changes and deletes.

use strict;
use warnings;

use lib 't/lib';
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1);
$t->write_config($t->standard_conf(tenant => 'mail',
                                   extra => '        scim_filter_max_scan 1;'));
$t->start_nginx or BAIL_OUT('nginx did not start');

my $P = 'scim:{mail}:';

sub mk {
    my ($name, @emails) = @_;
    my $r = $t->post('Users', { schemas => [URN_USER], userName => $name,
                                emails => [ @emails ] });
    is($r->{status}, 201, "create $name") or diag $r->{content};
    return $r->{json}{id} // 'none';
}

sub found {
    my ($filter, $want, $name) = @_;
    my $r = $t->list(filter => $filter);
    my @got = sort map { $_->{userName} } @{ $r->{json}{Resources} // [] };
    is_deeply(\@got, [ sort @$want ], $name)
        or diag "HTTP $r->{status}: $r->{content}";
}

my $a = mk('alice', { value => 'Alice@Example.com', type => 'work', primary => jtrue },
                    { value => 'alice@home.test', type => 'home' });
my $b = mk('bob',   { value => 'bob@example.com', type => 'work' });
my $c = mk('carol', { value => 'shared@example.com', type => 'work' });
my $d = mk('dave',  { value => 'shared@example.com', type => 'home' });

found('emails[type eq "work"].value eq "alice@example.com"', ['alice'],
      "Entra's match, other case: from the index");
found('emails[type eq "work"].value eq "alice@home.test"', [],
      '... the type still decides: a home address is no work address');
found('emails.value eq "ALICE@HOME.TEST"', ['alice'], 'emails.value: any type');
found('emails eq "bob@example.com"', ['bob'], 'emails eq: its value');
found('emails.value eq "shared@example.com"', [qw(carol dave)],
      'two users with one address: both');
found('emails[type eq "work"].value eq "shared@example.com"', ['carol'],
      '... the work one only');
found('emails.value eq "nobody@example.com"', [], 'no such address: empty, 200');
is(scalar @{ $t->redis_cmd('ZRANGE', "${P}User:idx:email", 0, -1) // [] }, 5,
   'the index holds every address');

# an e-mail change moves the entry

my $r = $t->patch_ops($b, { op => 'Replace', path => 'emails[type eq "work"].value',
                            value => 'robert@example.com' });
is($r->{status}, 200, 'PATCH the work address');
found('emails.value eq "bob@example.com"', [], 'the old address is gone');
found('emails[type eq "work"].value eq "robert@example.com"', ['bob'], 'the new one found');

$r = $t->put("Users/$b", { schemas => [URN_USER], userName => 'bob' });
is($r->{status}, 200, 'PUT without e-mails');
found('emails.value eq "robert@example.com"', [], '... no entry left');

# only the addresses that change move: a PATCH of anything else sends no
# command to the index, a PATCH of one of two addresses one ZREM and one
# ZADD (MONITOR shows a script's commands, \0 as "\x00")
my $c = mk('carl', { value => 'carl@one.test', type => 'work' },
                   { value => 'carl@two.test', type => 'home' });
my $idx = sub {
    [ sort map { (split /\0/)[0] } grep { (split /\0/)[1] eq $c }
           @{ $t->redis_cmd('ZRANGE', "${P}User:idx:email", 0, -1) // [] } ];
};
my $on_idx = sub {
    [ map { join ' ', $_->[0], map { (split /\\x00/)[0] } @$_[2 .. $#$_] }
      grep { $_->[0] =~ /^(?:ZADD|ZREM)$/ && ($_->[1] // '') eq "${P}User:idx:email" }
      @{ $_[0] } ];
};
my $mon = $t->redis_monitor(sub {
    $r = $t->patch_ops($c, { op => 'Replace', path => 'title', value => 'T' });
});
is($r->{status}, 200, 'PATCH a title');
is_deeply($on_idx->($mon), [], '... no command on the e-mail index');
$mon = $t->redis_monitor(sub {
    $r = $t->patch_ops($c, { op => 'Replace', path => 'emails[type eq "home"].value',
                             value => 'carl@three.test' });
});
is($r->{status}, 200, 'PATCH one of two addresses');
is_deeply($idx->(), ['carl@one.test', 'carl@three.test'], '... the index holds the new pair');
is_deeply($on_idx->($mon), ['ZREM carl@two.test', 'ZADD 0 carl@three.test'],
          '... by one ZREM of the old and one ZADD of the new');
$mon = $t->redis_monitor(sub {
    $r = $t->patch_ops($c, { op => 'Add', path => 'emails',
                             value => [{ value => 'CARL@one.test', type => 'other' }] });
});
is($r->{status}, 200, 'PATCH adding an address the user holds already (other case)');
is_deeply($idx->(), ['carl@one.test', 'carl@three.test'], '... one entry for it still');
is_deeply($on_idx->($mon), [], '... no command on the index');
is($t->del("Users/$c")->{status}, 204, 'DELETE carl');
is_deeply($idx->(), [], '... his entries are gone');

# a delete cleans its entries

is($t->del("Users/$a")->{status}, 204, 'DELETE alice');
found('emails.value eq "alice@example.com"', [], 'her addresses are gone');
my $left = $t->redis_cmd('ZRANGE', "${P}User:idx:email", 0, -1) // [];
is_deeply([ sort map { (split /\0/)[0] } @$left ], [ 'shared@example.com', 'shared@example.com' ],
          'the index holds exactly the addresses left');

# a filter the index cannot answer is still a scan (refused here)
is($t->list(filter => 'emails.value co "example"')->{status}, 400,
   'a non-indexed e-mail filter scans: 400 tooMany past scim_filter_max_scan');

$t->finish;

#!/usr/bin/perl

# POST .search (issue 4; RFC 7644 3.4.3): /Users/.search, /Groups/.search
# and the root /.search (users, then groups) with SearchRequest bodies:
# filter, attributes / excludedAttributes (arrays), sortBy / sortOrder,
# startIndex / count, the RFC's own example; paging across the users /
# groups boundary at the root; bad bodies (invalid filter, wrong types,
# not JSON, wrong message schema) -> 400; GET on .search -> 405; a search
# never creates anything.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 2);
$t->write_config($t->standard_conf(extra => '        scim_max_results 50;'));
$t->start_nginx_ok;

use constant URN_SEARCH => 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';

sub create {
    my ($path, $body) = @_;
    my $r = $t->post($path, $body);
    diag("POST $path failed: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json} // {};
}

sub search {
    my ($path, %b) = @_;
    my %o;
    %o = %{ delete $b{_opts} } if $b{_opts};
    return $t->post($path, { schemas => [URN_SEARCH], %b }, %o);
}

sub names {
    my ($r) = @_;
    return [ map { $_->{userName} // $_->{displayName} // '?' } @{ $r->{json}{Resources} // [] } ];
}

sub kinds {
    my ($r) = @_;
    return [ map {
        my $s = join(' ', @{ $_->{schemas} // [] });
        $s =~ /core:2\.0:Group/ ? 'G' : $s =~ /core:2\.0:User/ ? 'U' : '?'
    } @{ $r->{json}{Resources} // [] } ];
}

# ------------------------------------------------------------------ data

my %uid;
for my $u (['bjensen', 'Smith Barbara', 'Employee'], ['jsmith', 'Smith Jim', 'Employee'],
           ['asmith', 'Smithers Alan', 'Contractor'], ['zed', 'Zed Zulu', 'Employee'],
           ['ann', 'Ann Other', 'Intern'])
{
    $uid{ $u->[0] } = create('Users', { schemas => [URN_USER], userName => $u->[0],
                                        displayName => $u->[1], userType => $u->[2],
                                        password => 'pw-' . $u->[0] . '-secret',
                                        emails => [{ value => "$u->[0]\@example.com", type => 'work' }] })->{id};
}
my %gid;
$gid{'Smith Family'} = create('Groups', { schemas => [URN_GROUP], displayName => 'Smith Family',
                                          members => [{ value => $uid{bjensen} }, { value => $uid{jsmith} }] })->{id};
$gid{'Smithsonian'} = create('Groups', { schemas => [URN_GROUP], displayName => 'Smithsonian' })->{id};
$gid{'Others'} = create('Groups', { schemas => [URN_GROUP], displayName => 'Others',
                                    members => [{ value => $uid{ann} }] })->{id};

# ------------------------------------------------------ /Users/.search

my $r = search('Users/.search', filter => 'userName eq "bjensen"');
is_list_response($r, 1, 1, 'POST /Users/.search filter userName eq');
is_deeply(names($r), ['bjensen'], '... the right user');
is(($r->{json}{Resources}[0] // {})->{id}, $uid{bjensen}, '... with its id');
ok(!exists(($r->{json}{Resources}[0] // {})->{password}), '... without password');
unlike($r->{content}, qr/pw-bjensen-secret/, '... the password appears nowhere');

# the RFC's example body (3.4.3), on /Users
$r = search('Users/.search', attributes => ['displayName', 'userName'],
            filter => 'displayName sw "smith"', startIndex => 1, count => 10);
is_list_response($r, 3, 3, 'RFC 3.4.3 example on /Users/.search: 3 Smiths');
is_deeply([ sort @{ names($r) } ], ['asmith', 'bjensen', 'jsmith'], '... the Smiths');
my $first = ($r->{json}{Resources} // [])->[0] // {};
is(join(',', sort grep { $_ ne 'schemas' } keys %$first), 'displayName,id,userName',
   '... projected to id, displayName, userName');

$r = search('Users/.search', filter => 'userType eq "Employee"', excludedAttributes => ['emails']);
is_list_response($r, 3, 3, 'excludedAttributes (array)');
ok(!grep({ exists $_->{emails} } @{ $r->{json}{Resources} // [] }), '... no emails');
ok(!grep({ !defined $_->{userName} } @{ $r->{json}{Resources} // [] }), '... userName kept');

$r = search('Users/.search', attributes => 'userName', filter => 'userName eq "zed"');
is_deeply([ sort grep { $_ ne 'schemas' } keys %{ ($r->{json}{Resources} // [])->[0] // {} } ],
          ['id', 'userName'], 'attributes as a comma string');

$r = search('Users/.search', sortBy => 'userName', sortOrder => 'descending');
is_list_response($r, 5, 5, 'sortBy/sortOrder in the body');
is_deeply(names($r), ['zed', 'jsmith', 'bjensen', 'asmith', 'ann'], '... sorted descending');

$r = search('Users/.search', sortBy => 'userName', startIndex => 2, count => 2);
is_list_response($r, 5, 2, 'startIndex=2, count=2 in the body');
is_deeply(names($r), ['asmith', 'bjensen'], '... the second page of the sorted list');
is($r->{json}{startIndex}, 2, '... startIndex 2 echoed');

$r = search('Users/.search');
is_list_response($r, 5, 5, 'no filter: every user');

$r = search('Users/.search', count => 0);
is_list_response($r, 5, 0, 'count=0: totalResults only');
$r = search('Users/.search', count => 500);
is_list_response($r, 5, 5, 'count above scim_max_results is capped (5 of 5 here)');
$r = search('Users/.search', startIndex => 0, count => 1, sortBy => 'userName');
is_list_response($r, 5, 1, 'startIndex=0 is treated as 1');
is_deeply(names($r), ['ann'], '... the first one');

$r = search('Users/.search', filter => 'emails[type eq "work" and value co "smith"]');
is_list_response($r, 2, 2, 'value path filter in the body');
$r = search('Users/.search', filter => 'emails[type eq "work"].value eq "zed@example.com"');
is_deeply(names($r), ['zed'], 'Entra value path + sub-attribute in the body');

$r = $t->post('Users/.search', { schemas => [URN_SEARCH], FILTER => 'userName eq "ann"',
                                 Count => 1 });
is_deeply(names($r), ['ann'], 'SearchRequest member names in any case');

$r = $t->post('Users/.search', { schemas => [URN_SEARCH], filter => 'userName eq "ann"' },
              ctype => 'application/json');
is_list_response($r, 1, 1, 'Content-Type: application/json accepted');

$r = $t->post('Users/.search', { schemas => [URN_SEARCH], filter => 'userName eq "ann"' },
              ctype => 'application/scim+json; charset=utf-8');
is_list_response($r, 1, 1, 'Content-Type: application/scim+json; charset=utf-8 accepted');

$r = $t->post('/scim/v2/Users/.search/', { schemas => [URN_SEARCH], filter => 'userName eq "ann"' });
is_list_response($r, 1, 1, '/Users/.search/ (trailing slash)');

# bad requests
is_scim_error(search('Users/.search', filter => 'userName eq'), 400, 'invalidFilter',
              'invalid filter in the body -> 400 invalidFilter');
is_scim_error(search('Users/.search', filter => 'title pr and'), 400, 'invalidFilter',
              'dangling and -> 400 invalidFilter');
for my $c ([filter => 42], [filter => ['userName eq "x"']], [count => '10'], [count => 1.5],
           [startIndex => 'one'], [sortOrder => 'sideways'], [sortBy => 5],
           [attributes => { a => 1 }], [excludedAttributes => [1, 2]])
{
    my $r = search('Users/.search', @$c);
    is_scim_error($r, 400, undef, "\"$c->[0]\": " . json_encode($c->[1]) . ' -> 400');
}
is_scim_error($t->request('POST', 'Users/.search', body => '{"schemas": [', ), 400, 'invalidSyntax',
              'body is not JSON -> 400 invalidSyntax');
is_scim_error($t->request('POST', 'Users/.search', body => '["filter"]'), 400, 'invalidSyntax',
              'body is a JSON array -> 400 invalidSyntax');
is_scim_error($t->post('Users/.search', { schemas => [URN_PATCH], filter => 'userName eq "ann"' }),
              400, 'invalidSyntax',
              'schemas is not SearchRequest (RFC 7644 3.4.3: REQUIRED) -> 400 invalidSyntax');
is_scim_error($t->get('Users/.search'), 405, undef, 'GET /Users/.search -> 405');
is_scim_error($t->put('Users/.search', { schemas => [URN_SEARCH] }), 405, undef, 'PUT /Users/.search -> 405');
is_scim_error($t->del('Users/.search'), 405, undef, 'DELETE /Users/.search -> 405');
is_scim_error(search('Users/.search', filter => 'userName eq "x"', _opts => { token => 'wrong' }),
              401, undef, '.search without a valid token -> 401');

# nothing was created by all this
$r = $t->get('Users?count=0');
is_list_response($r, 5, 0, 'still 5 users: .search never creates');

# ----------------------------------------------------- /Groups/.search

$r = search('Groups/.search', filter => 'displayName sw "smith"');
is_list_response($r, 2, 2, 'POST /Groups/.search');
is_deeply([ sort @{ names($r) } ], ['Smith Family', 'Smithsonian'], '... the right groups');
$r = search('Groups/.search', filter => qq(members.value eq "$uid{ann}"),
            excludedAttributes => ['members']);
is_deeply(names($r), ['Others'], '/Groups/.search members.value eq');
ok(!exists((($r->{json}{Resources} // [])->[0] // {})->{members}), '... excludedAttributes=members');
$r = search('Groups/.search', filter => 'displayName eq "smith family"', attributes => ['members']);
is_deeply([ sort map { $_->{value} } @{ (($r->{json}{Resources} // [])->[0] // {})->{members} // [] } ],
          [ sort @uid{qw(bjensen jsmith)} ], 'attributes=[members]: the members');
$r = search('Groups/.search', sortBy => 'displayName', sortOrder => 'descending');
is_deeply(names($r), ['Smithsonian', 'Smith Family', 'Others'], '/Groups/.search sorted descending');
is_scim_error(search('Groups/.search', filter => '(displayName eq "x"'), 400, 'invalidFilter',
              '/Groups/.search invalid filter');
is_scim_error($t->get('Groups/.search'), 405, undef, 'GET /Groups/.search -> 405');

# ------------------------------------------------------------ /.search

$r = search('.search', attributes => ['displayName', 'userName'],
            filter => 'displayName sw "smith"', startIndex => 1, count => 10);
is_list_response($r, 5, 5, 'root /.search, RFC 3.4.3 example: 3 users + 2 groups');
is_deeply(kinds($r), ['U', 'U', 'U', 'G', 'G'], '... users first, then groups');
is_deeply([ sort @{ names($r) } ],
          ['Smith Family', 'Smithsonian', 'asmith', 'bjensen', 'jsmith'], '... the right ones');
ok(!grep({ !defined $_->{id} } @{ $r->{json}{Resources} // [] }), '... each with its id');
ok(!grep({ exists $_->{members} || exists $_->{emails} } @{ $r->{json}{Resources} // [] }),
   '... projected (no members, no emails)');

$r = search('.search');
is_list_response($r, 8, 8, 'root /.search without filter: 5 users + 3 groups');
is_deeply(kinds($r), [ ('U') x 5, ('G') x 3 ], '... users, then groups');
ok(!grep({ exists $_->{password} } @{ $r->{json}{Resources} // [] }), '... no password anywhere');

# paging across the boundary
my @pages;
for my $si (1, 4, 7) {
    my $p = search('.search', filter => 'displayName sw "smith" or displayName eq "Others"',
                   startIndex => $si, count => 3);
    is_list_response($p, 6, $si == 7 ? 0 : 3, "root /.search startIndex=$si count=3");
    push @pages, @{ kinds($p) };
}
is_deeply(\@pages, ['U', 'U', 'U', 'G', 'G', 'G'], 'root pages: 3 users, then the 3 groups');

$r = search('.search', filter => 'userName sw "a"');
is_list_response($r, 2, 2, 'root /.search with a User-only attribute: groups just do not match');
is_deeply([ sort @{ names($r) } ], ['ann', 'asmith'], '... the users');

$r = search('.search', filter => 'meta.resourceType eq "Group"');
is_list_response($r, 3, 3, 'root /.search meta.resourceType eq "Group": the groups only');
is_deeply(kinds($r), ['G', 'G', 'G'], '... all groups');

$r = search('.search', filter => 'members pr');
is_list_response($r, 2, 2, 'root /.search members pr: the groups with members');

$r = search('.search', filter => 'displayName sw "smith" or displayName sw "o"', sortBy => 'displayName');
is_list_response($r, 6, 6, 'root /.search with sortBy=displayName');
is_deeply([ map { $_->{displayName} } @{ $r->{json}{Resources} // [] } ],
          ['Others', 'Smith Barbara', 'Smith Family', 'Smith Jim', 'Smithers Alan', 'Smithsonian'],
          '... the whole answer ordered by displayName, users and groups together (RFC 7644 3.4.2.3)')
    or diag('got: ' . join(', ', map { $_->{displayName} // '?' } @{ $r->{json}{Resources} // [] }));

$r = search('.search', count => 0);
is_list_response($r, 8, 0, 'root /.search count=0: totalResults only');

is_scim_error(search('.search', filter => 'displayName eq'), 400, 'invalidFilter',
              'root /.search invalid filter -> 400 invalidFilter');
is_scim_error($t->get('.search'), 405, undef, 'GET /.search -> 405');
is_scim_error(search('.search', _opts => { token => undef }), 401, undef, 'root /.search without a token -> 401');

$t->finish;

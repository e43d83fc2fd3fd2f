#!/usr/bin/perl

# A value filter in attributes / excludedAttributes (issue 11; sent by
# Microsoft's Postman collection): attributes=emails[type eq "work"]
# returns the matching elements, emails[type eq "work"].value that
# sub-attribute of them; excludedAttributes=emails[type eq "home"] leaves
# those elements out.  On GET of one resource, on lists (index lookup,
# page, scan, sorted), on /Users/.search and /.search, on groups'
# members; malformed filters are 400 invalidFilter, a filter on an
# attribute that is not multi-valued and complex 400 invalidValue.  Every
# 2xx answer is also checked against /Schemas (t/lib/ScimSchemaCheck.pm).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;
use ScimSchemaCheck;

my $t = ScimTest->new(workers => 2);
$t->write_config($t->standard_conf);
$t->start_nginx_ok;

my $SR = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
my $sc = ScimSchemaCheck->from_server(sub { $t->get($_[0]) });

sub conforms {
    my ($r, $type, $name) = @_;
    my @p = $sc->check_response($r, $type);
    is_deeply(\@p, [], "$name: conforms to /Schemas") or diag(join "\n", @p);
}

my %ids;
for my $n (1 .. 3) {
    my $r = $t->create_user(entra_user(
        userName => "vf$n\@example.com",
        emails => [ { value => "vf$n\@work.example", type => 'work',
                      primary => jtrue },
                    { value => "vf$n\@home.example", type => 'home' },
                    ($n == 3 ? () : { value => "vf$n\@other.example",
                                      type => 'other' }) ],
        phoneNumbers => [ { value => "+1 555 000 $n", type => 'work' } ]));
    $ids{$n} = $r->{json}{id} // "none$n";
}
my $uid = $ids{1};

my $WORK = 'emails[type eq "work"]';

# ------------------------------------------------------------ one resource

my $r = $t->get("Users/$uid?" . qs(attributes => $WORK));
is($r->{status}, 200, "GET Users/<id>?attributes=$WORK: 200");
is_deeply($r->{json}{emails},
          [ { value => 'vf1@work.example', type => 'work', primary => jtrue } ],
          '... only the work e-mail, whole');
is_deeply([ sort keys %{ $r->{json} } ], [qw(emails id schemas)],
          '... and nothing else but id and schemas');
conforms($r, 'User', 'GET with a value filter');

$r = $t->get("Users/$uid?" . qs(attributes => "$WORK.value,userName"));
is_deeply($r->{json}{emails}, [ { value => 'vf1@work.example' } ],
          "attributes=$WORK.value: that sub-attribute of the match");
is($r->{json}{userName}, 'vf1@example.com', '... with userName beside');

$r = $t->get("Users/$uid?attributes=emails[type%20eq%20%22work%22].value");
is_deeply($r->{json}{emails}, [ { value => 'vf1@work.example' } ],
          'brackets not percent-encoded in the query work too');

$r = $t->get("Users/$uid?" . qs(attributes => 'emails[type eq "home" or type eq "other"].value'));
is_deeply($r->{json}{emails}, [ { value => 'vf1@home.example' },
                                { value => 'vf1@other.example' } ],
          'a filter with "or" selects each matching element');

$r = $t->get("Users/$uid?" . qs(attributes => 'userName,emails[value co ","]'));
is($r->{status}, 200, 'a comma inside the filter does not split the list');
ok(!exists $r->{json}{emails} && $r->{json}{userName},
   '... no e-mail matches: emails left out, userName kept');

$r = $t->get("Users/$uid?" . qs(excludedAttributes => 'emails[type eq "home"],'
                                . 'emails[type eq "work"].primary'));
is($r->{status}, 200, 'excludedAttributes with value filters: 200');
is_deeply($r->{json}{emails},
          [ { value => 'vf1@work.example', type => 'work' },
            { value => 'vf1@other.example', type => 'other' } ],
          '... the home e-mail and the work one\'s primary left out');
ok($r->{json}{userName} && $r->{json}{meta}, '... the rest of the user stays');
conforms($r, 'User', 'GET with an excluding value filter');

# ------------------------------------------------------------------ lists

my %lists = (
    'index (userName eq)' => [ filter => 'userName eq "vf2@example.com"' ],
    'page'                => [ sortBy => 'userName', count => 3 ],
    'scan (co)'           => [ filter => 'userName co "@example.com"' ],
    'scan, sorted'        => [ filter => 'userName sw "vf"',
                               sortBy => 'userName', sortOrder => 'descending' ],
);
for my $how (sort keys %lists) {
    $r = $t->list(@{ $lists{$how} }, attributes => "$WORK.value");
    is($r->{status}, 200, "list, $how, attributes=$WORK.value: 200");
    my @res = @{ $r->{json}{Resources} // [] };
    ok(@res >= 1, "... some users ($how)");
    is_deeply([ grep { !(ref $_->{emails} eq 'ARRAY' && @{ $_->{emails} } == 1
                         && keys %{ $_->{emails}[0] } == 1
                         && ($_->{emails}[0]{value} // '') =~ /\@work\.example$/) }
                @res ], [], "... each with only its work e-mail's value ($how)");
    conforms($r, 'User', "list, $how");
}

$r = $t->list(filter => 'userName sw "vf"', sortBy => 'userName',
              excludedAttributes => 'emails[type ne "other"]');
is_deeply([ map { $_->{emails} } @{ $r->{json}{Resources} // [] } ],
          [ [ { value => 'vf1@other.example', type => 'other' } ],
            [ { value => 'vf2@other.example', type => 'other' } ],
            undef ],
          'list, excludedAttributes=emails[type ne "other"]: only the other '
          . 'e-mails stay, a user without one has no emails');

# ---------------------------------------------------------------- .search

$r = $t->post('Users/.search', { schemas => [$SR], filter => 'userName sw "vf"',
                                 sortBy => 'userName',
                                 attributes => [ $WORK, 'userName' ] });
is($r->{status}, 200, 'POST /Users/.search, attributes as a list: 200');
is_deeply([ map { [ $_->{userName}, $_->{emails} ] } @{ $r->{json}{Resources} // [] } ],
          [ map { [ "vf$_\@example.com",
                    [ { value => "vf$_\@work.example", type => 'work',
                        primary => jtrue } ] ] } 1 .. 3 ],
          '... each user\'s work e-mail');
conforms($r, 'User', '/Users/.search');

$r = $t->post('Users/.search', { schemas => [$SR], filter => qq{id eq "$uid"},
                                 attributes => qq{userName,$WORK.value},
                                 excludedAttributes => ['emails[value sw "x"]'] });
is_deeply($r->{json}{Resources}[0]{emails}, [ { value => 'vf1@work.example' } ],
          '/Users/.search, attributes as a string, with excludedAttributes');

$r = $t->post('.search', { schemas => [$SR], filter => 'userName eq "vf3@example.com"',
                           attributes => ["$WORK.value"] });
is($r->{status}, 200, 'POST /.search with a value filter: 200');
is_deeply($r->{json}{Resources}[0]{emails}, [ { value => 'vf3@work.example' } ],
          '... the user\'s work e-mail');

# ----------------------------------------------------------------- groups

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'vf-inner',
                          members => [ { value => $ids{3} } ] });
my $inner = $r->{json}{id} // 'none';
$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'vf-outer',
                          members => [ { value => $ids{1} }, { value => $ids{2} },
                                       { value => $inner } ] });
my $gid = $r->{json}{id} // 'none';

$r = $t->get("Groups/$gid?" . qs(attributes => 'members[type eq "Group"]'));
is_deeply($r->{json}{members},
          [ { value => $inner, type => 'Group', display => 'vf-inner',
              '$ref' => "http://127.0.0.1:" . $t->port . "/scim/v2/Groups/$inner" } ],
          'attributes=members[type eq "Group"]: the nested group, with $ref and display');
conforms($r, 'Group', 'a group with a value filter');

$r = $t->get("Groups/$gid?" . qs(attributes => qq{members[value eq "$ids{2}"].display}));
is_deeply($r->{json}{members}, [ { display => 'vf2@example.com' } ],
          'members[value eq "<id>"].display');

$r = $t->get('Groups?' . qs(filter => 'displayName eq "vf-outer"',
                            excludedAttributes => 'members[type eq "User"]'));
is_deeply([ map { $_->{value} } @{ $r->{json}{Resources}[0]{members} // [] } ],
          [ $inner ], 'list, excludedAttributes=members[type eq "User"]');

# ----------------------------------------------------------------- errors

for my $bad ('emails[type eq "work"', 'emails[type eq "work"]x', 'emails[type eq]',
             'emails[]', 'emails[type eq "a"][type eq "b"]')
{
    $r = $t->get("Users/$uid?" . qs(attributes => $bad));
    is_scim_error($r, 400, 'invalidFilter', "attributes=$bad");
    $r = $t->list(excludedAttributes => $bad);
    is_scim_error($r, 400, 'invalidFilter', "list, excludedAttributes=$bad");
}
for my $bad ('name[givenName eq "x"]', 'userName[value eq "x"]') {
    $r = $t->get("Users/$uid?" . qs(attributes => $bad));
    is_scim_error($r, 400, 'invalidValue', "attributes=$bad: not multi-valued complex");
}
$r = $t->post('Users/.search', { schemas => [$SR], attributes => ['emails[type eq'] });
is_scim_error($r, 400, 'invalidFilter', '/Users/.search with a broken value filter');

$r = $t->get("Users/$uid?" . qs(attributes => 'userName,nosuch[type eq "x"]'));
is($r->{status}, 200, 'an unknown attribute with a filter is ignored like any unknown name');
is_deeply([ sort keys %{ $r->{json} // {} } ], [qw(id schemas userName)], '... userName only');

$t->finish;

#!/usr/bin/perl

# Filters (issue 4; RFC 7644 3.4.2.2) on /Users and /Groups: every
# operator (eq ne co sw ew pr gt ge lt le), and/or/not, parentheses and
# precedence, value paths, sub-attributes, extension attributes by full
# URN (enterprise, GlobalRelay, a typed test extension), meta.*,
# case-insensitive attribute names and operators, caseExact per schema
# (userName no; externalId, id and a caseExact extension attribute yes),
# typed comparison (boolean, integer, decimal, dateTime with time zone
# offsets, string), the forms Entra sends beyond the grammar
# (emails[type eq "work"].value eq "x", "True", unquoted values), the
# RFC's own example filters, malformed filters -> 400 invalidFilter with
# the position, and the scan bound: scim_filter_max_scan N -> 400 tooMany
# for a filter no index answers, while indexed lookups still work; a scan
# across several batches finds every match.

use strict;
use warnings;
use utf8;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use ScimTest;

binmode(Test::More->builder->$_, ':utf8') for qw(output failure_output todo_output);

my $t = ScimTest->new(workers => 2);

use constant URN_TX => 'urn:example:params:scim:schemas:extension:test:2.0:User';
my $TX = URN_TX;
my $ENT = URN_ENT;
my $GR = URN_GR;

# a User extension with typed attributes
$t->write_file('test-ext.json', json_encode({
    schemas => ['urn:ietf:params:scim:schemas:core:2.0:Schema'],
    id => URN_TX, name => 'TestUser', description => 'typed test extension',
    attributes => [
        attr('level', 'integer'),
        attr('score', 'decimal'),
        attr('vip', 'boolean'),
        attr('hired', 'dateTime'),
        attr('badge', 'string', caseExact => jtrue),
        attr('tags', 'string', multiValued => jtrue),
        attr('skills', 'complex', multiValued => jtrue,
             subAttributes => [ attr('name', 'string'), attr('years', 'integer') ]),
    ],
    meta => { resourceType => 'Schema', location => '/v2/Schemas/' . URN_TX },
}));

sub attr {
    my ($name, $type, %o) = @_;
    return { name => $name, type => $type, multiValued => jfalse,
             description => $name, required => jfalse, caseExact => jfalse,
             mutability => 'readWrite', returned => 'default',
             uniqueness => 'none', %o };
}

my $EXT = <<'EOF';
        scim_schema_extension %%REPO%%/conf-examples/global-relay/globalrelay-extension.json;
        scim_schema_extension %%DIR%%/test-ext.json;
EOF

sub loc {
    my ($prefix, $tenant, $extra) = @_;
    return <<"EOF";
    location $prefix/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $tenant;
        scim_bearer_token_file %%TOKEN_FILE%%;
$EXT
$extra
    }
EOF
}

$t->write_config($t->standard_conf(
    extra => $EXT,
    server_extra => loc('/scan', 'scan', 'scim_filter_max_scan 5;')
                  . loc('/small', 'small', 'scim_filter_max_scan 5;')
                  . loc('/many', 'many', '')
                  . loc('/created', 'created', '')));
$t->start_nginx_ok;

# ---------------------------------------------------------------- helpers

sub create {
    my ($path, $body) = @_;
    my $r = $t->post($path, $body);
    diag("POST $path failed: HTTP $r->{status} $r->{content}") unless $r->{status} == 201;
    return $r->{json} // {};
}

sub user {
    my (%b) = @_;
    my @schemas = (URN_USER);
    push @schemas, grep { exists $b{$_} } ($ENT, $TX, $GR);
    return create('Users', { schemas => \@schemas, %b });
}

# the sorted userNames (or displayNames) matched by a filter, or a
# description of the failure
sub matched {
    my ($filter, %o) = @_;
    my $base = $o{base} // '';
    my $ep = $o{groups} ? 'Groups' : 'Users';
    my $key = $o{groups} ? 'displayName' : 'userName';
    my $r = $t->get("$base${ep}?" . qs(filter => $filter, count => 1000));
    return ["HTTP $r->{status}: $r->{content}"] unless $r->{status} == 200
        && ref $r->{json} eq 'HASH' && ref $r->{json}{Resources} eq 'ARRAY';
    my @n = sort map { $_->{$key} // '(none)' } @{ $r->{json}{Resources} };
    return ["totalResults $r->{json}{totalResults} != " . scalar(@n) . ": @n"]
        unless ($r->{json}{totalResults} // -1) == @n;
    return \@n;
}

sub finds {
    my ($filter, $want, $name, %o) = @_;
    my $got = matched($filter, %o);
    my @w = sort @$want;
    is_deeply($got, \@w, ($name // "filter $filter") . ' -> (' . join(', ', @w) . ')')
        or diag("filter: $filter");
}

sub gfinds { finds(@_[0 .. 2], groups => 1) }

sub bad_filter {
    my ($filter, $name, %o) = @_;
    my $base = $o{base} // '';
    my $ep = $o{groups} ? 'Groups' : 'Users';
    my $r = $t->get("$base${ep}?" . qs(filter => $filter));
    $name //= "malformed filter '$filter' -> 400 invalidFilter";
    is_scim_error($r, 400, 'invalidFilter', $name)
        and like($r->{json}{detail} // '', qr/(?:position|offset|column|char\w*|at)\s*\d+/i,
                 "... the detail names the position ('$filter')");
}

# ------------------------------------------------------------------ data

my $jt = user(userName => 'jtest', externalId => 'ext-jt', title => 'Manager',
              userType => 'Contractor',
              emails => [{ type => 'other', value => 'jt@x.example' }],
              $TX => { level => -3, score => -0.5, vip => jfalse });
my $bj = user(userName => 'bjensen', externalId => 'EXT-bj',
              name => { familyName => 'Jensen', givenName => 'Barbara',
                        formatted => 'Ms. Barbara J Jensen III' },
              displayName => 'Babs Jensen', nickName => 'Babs', title => 'Tour Guide',
              userType => 'Employee', active => jtrue,
              emails => [{ value => 'bjensen@example.com', type => 'work', primary => jtrue },
                         { value => 'babs@jensen.org', type => 'home' }],
              ims => [{ value => 'bj@foo.com', type => 'xmpp' }],
              phoneNumbers => [{ value => '555-555-8377', type => 'work' }],
              $ENT => { employeeNumber => '701984', department => 'Tour Operations',
                        costCenter => '4130', manager => { value => $jt->{id} } },
              $TX => { level => 5, score => 3.75, vip => jtrue, hired => '2015-10-10T14:38:21Z',
                       badge => 'AbC', tags => ['red', 'blue'],
                       skills => [{ name => 'perl', years => 10 }, { name => 'c', years => 3 }] },
              $GR => { proxyAddresses => 'SMTP:bjensen@example.com;smtp:babs@example.com',
                       extensionAttribute1 => 'Alpha' });
my $om = user(userName => 'omalley', externalId => 'EXT-om',
              name => { familyName => "O'Malley", givenName => 'Sean' },
              title => '', userType => 'Intern', active => jfalse,
              emails => [{ value => 'sean@example.org', type => 'work' }],
              ims => [{ value => 'sean@foo.com', type => 'xmpp' }],
              $TX => { level => 10, score => 10.5, vip => jfalse,
                       hired => '2020-01-01T00:00:00Z', badge => 'abc', tags => ['green'] });
my $jd = user(userName => 'John.Doe', name => { familyName => 'Doe', givenName => 'John' },
              userType => 'Employee', active => jtrue,
              emails => [{ type => 'work', value => 'jdoe@corp.example.com' },
                         { type => 'home', value => 'john@example.com', primary => jtrue }],
              $ENT => { employeeNumber => '9', department => 'R&D' },
              $TX => { level => 7, score => 7.25, hired => '2018-06-15T12:00:00+02:00',
                       tags => ['red'], skills => [{ name => 'perl', years => 2 }] });
my $ju = user(userName => 'Jürgen.Müller', displayName => 'Jürgen Müller', title => 'Ökonom',
              userType => 'Employee', active => jtrue);
my $qu = user(userName => 'q"uote\\back', userType => 'Guest', nickName => 'Quo');
my $os = user(userName => 'Oscar', userType => 'Guest', title => 'manager of stage',
              roles => [], password => 'Secr3t-pw!');

my ($BJ, $OM, $JD, $JT, $JU, $QU, $OS) =
    ('bjensen', 'omalley', 'John.Doe', 'jtest', 'Jürgen.Müller', 'q"uote\\back', 'Oscar');
my @ALL = ($BJ, $OM, $JD, $JT, $JU, $QU, $OS);
is(scalar(grep { defined $_->{id} } $bj, $om, $jd, $jt, $ju, $qu, $os), 7, '7 users created');
sub all_but { my %x = map { $_ => 1 } @_; [ grep { !$x{$_} } @ALL ] }

# ------------------------------------------- RFC 7644 3.4.2.2 examples

finds('userName eq "bjensen"', [$BJ]);
finds('name.familyName co "O\'Malley"', [$OM]);
finds('userName sw "J"', [$JD, $JT, $JU]);
finds('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', [$JD, $JT, $JU],
      'core attribute by its full URN');
finds('title pr', [$BJ, $JT, $JU, $OS], 'title pr ("" is not present)');
finds('meta.lastModified gt "2011-05-13T04:42:34Z"', \@ALL);
finds('meta.lastModified ge "2011-05-13T04:42:34Z"', \@ALL);
finds('meta.lastModified lt "2011-05-13T04:42:34Z"', []);
finds('meta.lastModified le "2011-05-13T04:42:34Z"', []);
finds('title pr and userType eq "Employee"', [$BJ, $JU]);
finds('title pr or userType eq "Intern"', [$BJ, $JT, $JU, $OS, $OM]);
finds('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', [$BJ, $JD]);
finds('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
      [$BJ, $JD]);
finds('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
      [$JT, $QU, $OS]);
finds('userType eq "Employee" and (emails.type eq "work")', [$BJ, $JD]);
finds('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', [$BJ]);
finds('emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
      [$BJ, $OM]);

# ------------------------------- case-insensitive names and operators

finds('userName Eq "john.doe"', [$JD], 'RFC: userName Eq "john" (operator case)');
finds('Username eq "john.doe"', [$JD], 'RFC: Username eq "john" (attribute case)');
finds('USERNAME EQ "BJENSEN"', [$BJ]);
finds('NAME.FAMILYNAME Co "o\'malley"', [$OM]);
finds('userName eq "bjensen" OR userName eq "jtest"', [$BJ, $JT]);
finds('userName eq "bjensen" AND title PR', [$BJ]);
finds('NOT (userType eq "Employee")', [$OM, $JT, $QU, $OS]);
finds('META.RESOURCETYPE eq "User"', \@ALL);

# -------------------------------------------- operators and caseExact

finds('userName ne "bjensen"', all_but($BJ));
finds('userName co "JENS"', [$BJ], 'co: userName caseExact false');
finds('userName sw "BJ"', [$BJ]);
finds('userName ew "SEN"', [$BJ]);
finds('name.familyName ew "alley"', [$OM]);
finds('name.givenName eq "barbara"', [$BJ]);
finds('title co "MANAGER"', [$JT, $OS]);
finds('externalId eq "EXT-bj"', [$BJ]);
finds('externalId eq "ext-bj"', [], 'externalId caseExact: other case finds nothing');
finds('externalId sw "EXT-"', [$BJ, $OM]);
finds('externalId sw "ext-"', [$JT]);
finds('externalId co "xt-"', [$JT], 'externalId co caseExact');
finds('externalId pr', [$BJ, $OM, $JT]);
finds(qq(id eq "$bj->{id}"), [$BJ]);
finds('id eq "' . uc($bj->{id}) . '"', [], 'id caseExact: upper-cased id finds nothing')
    if ($bj->{id} // '') =~ /[a-z]/;
finds(qq(id ne "$bj->{id}"), all_but($BJ));
finds('id sw "' . substr($om->{id} // 'x', 0, 12) . '"', [$OM]);
finds('userName eq ""', [], 'eq "" matches nothing');
finds('nickName pr', [$BJ, $QU]);
finds('name pr', [$BJ, $OM, $JD], 'complex attribute pr');
finds('emails pr', [$BJ, $OM, $JD, $JT], 'multi-valued attribute pr');
finds('emails co "jensen.org"', [$BJ], 'multi-valued complex compared on value');
finds('emails.value ew ".org"', [$BJ, $OM]);
finds('emails.type eq "home"', [$BJ, $JD]);
finds('phoneNumbers.value co "8377"', [$BJ]);
finds('roles pr', [], 'an empty array is not present');
finds('id pr', \@ALL);
finds('emails.value pr', [$BJ, $OM, $JD, $JT]);
finds('userName sw "JÜR"', [$JU], 'sw with unicode case folding');
finds(qq(meta.location eq "$bj->{meta}{location}"), [$BJ], 'meta.location eq');
finds('meta.version eq ' . json_encode($bj->{meta}{version} // 'none') . ' and userName eq "bjensen"',
      [$BJ], 'meta.version eq (W/"n" with escaped quotes)');
{
    my $r = $t->get('Users?' . qs(filter => 'password eq "Secr3t-pw!"'));
    ok(($r->{status} == 200 && ($r->{json}{totalResults} // -1) == 0)
       || ($r->{status} == 400 && ($r->{json}{scimType} // '') eq 'invalidFilter'),
       'password (returned never) is not matchable by a filter: no oracle')
        or diag("HTTP $r->{status} $r->{content}");
    $r = $t->get('Users?' . qs(filter => 'password pr'));
    ok(($r->{status} == 200 && ($r->{json}{totalResults} // -1) == 0)
       || ($r->{status} == 400 && ($r->{json}{scimType} // '') eq 'invalidFilter'),
       'password pr: no oracle either')
        or diag("HTTP $r->{status} $r->{content}");
}
finds('ims[type eq "xmpp"]', [$BJ, $OM], 'a value path alone');
finds('emails[type eq "work" and value ew "example.org"]', [$OM]);
finds('emails[not (type eq "work")]', [$BJ, $JD, $JT], 'not inside a value path');
finds('emails[type eq "home" or type eq "other"]', [$BJ, $JD, $JT], 'or inside a value path');
finds('emails[primary eq true]', [$BJ, $JD]);
finds('emails[type eq "work" and primary eq true]', [$BJ],
      'both conditions on the same element (John has primary on home)');

# ------------------------------------ not, precedence, parentheses

finds('not (userName eq "bjensen")', all_but($BJ));
finds('not(userName eq "bjensen")', all_but($BJ), 'not( without a space');
finds('userName eq "bjensen" or userName eq "omalley" and active eq true', [$BJ],
      'and binds tighter than or (a or b and c)');
finds('userName eq "omalley" and active eq true or userName eq "bjensen"', [$BJ],
      'and binds tighter than or (a and b or c)');
finds('(userName eq "bjensen" or userName eq "omalley") and active eq false', [$OM],
      'parentheses override precedence');
finds('not (userName eq "bjensen") and not (userName eq "omalley") and userType eq "Employee"',
      [$JD, $JU]);
finds('((userName eq "bjensen"))', [$BJ], 'nested parentheses');
finds('(((userType eq "Guest") or ((title co "guide"))))', [$QU, $OS, $BJ]);
finds('userType eq "Guest" and (nickName pr or title pr)', [$QU, $OS]);
finds('not (not (userName eq "bjensen"))', [$BJ], 'double negation');
finds('userType eq "Employee" and not (active eq true)', []);
finds('(userName eq "bjensen") or (userName eq "jtest") or (userName eq "Oscar")', [$BJ, $JT, $OS]);

# ------------------------------------------ extension attributes by URN

finds("$ENT:employeeNumber eq \"701984\"", [$BJ]);
finds("$ENT:department co \"tour\"", [$BJ]);
finds("$ENT:department pr", [$BJ, $JD]);
finds("$ENT:manager.value eq \"$jt->{id}\"", [$BJ], 'enterprise manager.value');
finds(uc("$ENT:department") . ' co "r&d"', [$JD], 'extension URN and name in upper case');
finds("$GR:proxyAddresses co \"babs@\"", [$BJ], 'GlobalRelay extension attribute');
finds("$GR:extensionAttribute1 eq \"alpha\"", [$BJ]);
finds("$GR:extensionAttribute2 pr", []);

# ------------------------------------------------- typed comparisons

# integer: numeric, not lexicographic ("10" < "7" as strings)
finds("$TX:level gt 5", [$OM, $JD]);
finds("$TX:level gt 7", [$OM], 'integer gt 7: 10 only (numeric order)');
finds("$TX:level ge 7", [$OM, $JD]);
finds("$TX:level lt 0", [$JT], 'negative integers');
finds("$TX:level le 5", [$BJ, $JT]);
finds("$TX:level eq 10", [$OM]);
finds("$TX:level lt 10", [$BJ, $JD, $JT]);
finds("$TX:level gt 6.5", [$OM, $JD], 'integer compared with a decimal literal');
finds("$TX:score gt 1e1", [$OM], 'decimal literal with an exponent');
# decimal
finds("$TX:score gt 3.8", [$OM, $JD]);
finds("$TX:score lt 3.75", [$JT]);
finds("$TX:score ge 3.75", [$BJ, $OM, $JD]);
finds("$TX:score eq 7.25", [$JD]);
finds("$TX:score gt -1", [$BJ, $OM, $JD, $JT]);
finds("$TX:score lt 10", [$BJ, $JD, $JT], 'decimal lt 10: 10.5 excluded (numeric order)');
# boolean, also as Entra writes it
finds('active eq true', [$BJ, $JD, $JU]);
finds('active eq false', [$OM]);
finds('active eq "True"', [$BJ, $JD, $JU], 'Entra: "True" (quoted, capitalised)');
finds('active eq "False"', [$OM], 'Entra: "False"');
finds('active eq True', [$BJ, $JD, $JU], 'unquoted True');
finds('active ne true and active pr', [$OM]);
finds('active pr', [$BJ, $OM, $JD, $JU]);
finds("$TX:vip eq true", [$BJ]);
finds("$TX:vip eq false", [$OM, $JT]);
finds('emails[primary eq "True"]', [$BJ, $JD]);
# dateTime, time zone offsets
finds("$TX:hired gt \"2016-01-01T00:00:00Z\"", [$OM, $JD]);
finds("$TX:hired lt \"2018-06-15T11:00:00Z\"", [$BJ, $JD],
      'dateTime lt: 12:00+02:00 is 10:00Z');
finds("$TX:hired gt \"2018-06-15T10:30:00Z\"", [$OM],
      'dateTime gt: 12:00+02:00 is before 10:30Z (not a string comparison)');
finds("$TX:hired eq \"2018-06-15T10:00:00Z\"", [$JD], 'dateTime eq: same instant, other offset');
finds("$TX:hired ge \"2015-10-10T14:38:21Z\"", [$BJ, $OM, $JD]);
finds("$TX:hired lt \"2015-10-10T16:38:21+02:00\"", [], 'dateTime lt the same instant: none');
finds("$TX:hired le \"2015-10-10T16:38:21+02:00\"", [$BJ], 'dateTime le the same instant');
finds("$TX:hired gt \"2015-10-10T14:38:21.500Z\"", [$OM, $JD], 'fractional seconds');
# string caseExact per schema
finds("$TX:badge eq \"abc\"", [$OM], 'caseExact extension attribute: eq');
finds("$TX:badge eq \"AbC\"", [$BJ]);
finds("$TX:badge co \"bC\"", [$BJ], 'caseExact co');
finds("$TX:badge co \"BC\"", [], 'caseExact co, other case: none');
finds("$TX:badge sw \"a\"", [$OM], 'caseExact sw');
finds("$TX:badge gt \"ABC\"", [$BJ, $OM], 'caseExact gt: "AbC" and "abc" sort after "ABC"');
finds("$TX:badge lt \"abc\"", [$BJ], 'caseExact lt: "AbC" < "abc"');
finds('userName gt "n"', [$OM, $OS, $QU], 'string gt, case-insensitive (Oscar > n)');
finds('userName lt "c"', [$BJ], 'string lt');
finds('userName ge "OMALLEY"', [$OM, $OS, $QU]);
finds('userName le "bjensen"', [$BJ]);
# multi-valued and complex extension attributes
finds("$TX:tags eq \"red\"", [$BJ, $JD], 'multi-valued string: any value');
finds("$TX:tags eq \"RED\"", [$BJ, $JD]);
finds("$TX:tags co \"ee\"", [$OM]);
finds("$TX:skills[name eq \"perl\" and years gt 5]", [$BJ], 'extension value path, typed');
finds("$TX:skills.years ge 10", [$BJ]);
finds("$TX:skills.name eq \"perl\"", [$BJ, $JD]);

# ----------------------------------- the forms clients send in practice

finds('userName sw O', [$OM, $OS], 'unquoted value (userName sw O)');
finds('userName eq bjensen', [$BJ], 'unquoted value (eq)');
finds('meta.created gt 2015-10-10T14:38:21Z', \@ALL, 'unquoted dateTime');
finds('emails[type eq "work"].value eq "bjensen@example.com"', [$BJ],
      'Entra: value path followed by a sub-attribute');
finds('emails[type eq "work"].value eq "BJENSEN@EXAMPLE.COM"', [$BJ], '... case-insensitive value');
finds('emails[type eq "home"].value eq "bjensen@example.com"', [],
      '... the sub-attribute of the matching element only');
finds('emails[type eq "work"].value co "example"', [$BJ, $OM, $JD]);
finds('emails[type eq "work"].value eq "bjensen@example.com" and active eq "True"', [$BJ]);
finds("$ENT:manager eq \"$jt->{id}\"", [$BJ], 'Entra: manager eq "<id>" (complex compared on value)');

# -------------------------------------------- unicode and escapes

finds('userName eq "jürgen.müller"', [$JU], 'unicode, case-insensitive');
finds('title eq "ÖKONOM"', [$JU], 'unicode upper case');
finds('displayName co "ü"', [$JU]);
finds('userName eq "q\\"uote\\\\back"', [$QU], 'escaped quote and backslash');
finds('userName eq "\\u004fscar"', [$OS], 'JSON \\u escape');

# ------------------------------------------------------------- groups

my $eng = create('Groups', { schemas => [URN_GROUP], displayName => 'Engineering',
                            externalId => 'grp-eng',
                            members => [{ value => $bj->{id} }, { value => $jd->{id} }] });
my $tg = create('Groups', { schemas => [URN_GROUP], displayName => 'Tour Guides',
                           members => [{ value => $bj->{id} }] });
my $em = create('Groups', { schemas => [URN_GROUP], displayName => 'Empty' });
my $el = create('Groups', { schemas => [URN_GROUP], displayName => 'Eng Leads',
                           members => [{ value => $eng->{id}, type => 'Group' }] });

gfinds('displayName eq "engineering"', ['Engineering'], 'Groups: displayName eq, case-insensitive');
gfinds('displayName sw "E"', ['Empty', 'Eng Leads', 'Engineering']);
gfinds('displayName co "GUIDE"', ['Tour Guides']);
gfinds('displayName ew "s"', ['Eng Leads', 'Tour Guides']);
gfinds("members.value eq \"$bj->{id}\"", ['Engineering', 'Tour Guides']);
gfinds("members[value eq \"$jd->{id}\"]", ['Engineering']);
gfinds("members.value eq \"$eng->{id}\"", ['Eng Leads'], 'nested group member');
gfinds('members pr', ['Engineering', 'Tour Guides', 'Eng Leads']);
gfinds('not (members pr)', ['Empty']);
gfinds('externalId eq "grp-eng"', ['Engineering']);
gfinds('externalId eq "GRP-ENG"', [], 'Groups: externalId caseExact');
gfinds('meta.resourceType eq "Group"', ['Empty', 'Eng Leads', 'Engineering', 'Tour Guides']);
gfinds("displayName eq \"Engineering\" and members.value eq \"$jt->{id}\"", []);
gfinds("displayName sw \"T\" or members[value eq \"$jd->{id}\"]", ['Engineering', 'Tour Guides']);
gfinds("id eq \"$tg->{id}\"", ['Tour Guides']);
finds("groups.value eq \"$eng->{id}\"", [$BJ, $JD], 'Users: groups.value eq');
finds("groups.value eq \"$tg->{id}\" and userName sw \"b\"", [$BJ]);
finds('groups.display eq "Tour Guides"', [$BJ], 'Users: groups.display (readOnly, computed)');
finds('groups pr', [$BJ, $JD]);

# ------------------------------------------------ malformed filters

for my $f ('userName eq', 'userName eq "bjensen', 'userName xx "bjensen"',
           '(userName eq "bjensen"', 'userName eq "bjensen")', 'and userName eq "bjensen"',
           'userName eq "bjensen" and', 'userName eq "bjensen" or or title pr',
           'emails[type eq "work"', 'emails[]', 'emails[type eq "work"]]', 'userName',
           'eq "bjensen"', '"bjensen"', 'userName eq "a" "b"', 'title pr pr', '()',
           'userName eq "bad \\q escape"', 'userName eq "x" and ()',
           'emails[type eq "work"].', 'userName co', 'not ()')
{
    bad_filter($f);
}
bad_filter('active gt true', 'boolean with gt -> 400 invalidFilter (RFC 7644 3.4.2.2)');
bad_filter('active lt false', 'boolean with lt -> 400 invalidFilter');
bad_filter("$TX:vip ge true", 'extension boolean with ge -> 400 invalidFilter');
bad_filter('x509Certificates.value gt "abc"', 'binary with gt -> 400 invalidFilter');
bad_filter('displayName eq', 'Groups: malformed -> 400 invalidFilter', groups => 1);
bad_filter('members[value eq "x"', 'Groups: unclosed value path -> 400 invalidFilter', groups => 1);

for my $f ('meta.created gt "yesterday"', "$TX:level gt \"many\"", "$TX:hired lt 12") {
    my $r = $t->get('Users?' . qs(filter => $f));
    ok($r->{status} == 400 && ($r->{json}{scimType} // '') =~ /^(?:invalidFilter|invalidValue)$/,
       "a value of the wrong type ($f) -> 400 invalidFilter/invalidValue")
        or diag("HTTP $r->{status} $r->{content}");
}

# an attribute no schema defines: no match or invalidFilter, never 500
my $r = $t->get('Users?' . qs(filter => 'noSuchAttribute eq "x"'));
ok(($r->{status} == 200 && ($r->{json}{totalResults} // -1) == 0)
   || ($r->{status} == 400 && ($r->{json}{scimType} // '') eq 'invalidFilter'),
   'unknown attribute: 200 with no match or 400 invalidFilter')
    or diag("HTTP $r->{status} $r->{content}");

# deep nesting and long filters: a clean answer, the worker survives
my $deep = ('(' x 20000) . 'userName eq "bjensen"' . (')' x 20000);
$r = $t->post('Users/.search', { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                                 filter => $deep });
ok(($r->{status} == 400 && ($r->{json}{scimType} // '') eq 'invalidFilter')
   || ($r->{status} == 200 && ($r->{json}{totalResults} // -1) == 1),
   '20000 nested parentheses: 400 invalidFilter or the match, no crash')
    or diag("HTTP $r->{status} " . substr($r->{content} // '', 0, 300));
$r = $t->post('Users/.search', { filter => 'not (' x 5000 . 'title pr' . ')' x 5000 });
ok(($r->{status} == 400 && ($r->{json}{scimType} // '') eq 'invalidFilter')
   || $r->{status} == 200, '5000 nested not (...): clean answer')
    or diag("HTTP $r->{status} " . substr($r->{content} // '', 0, 300));
my $long = join(' or ', map { qq(userName eq "nobody$_") } 1 .. 300) . ' or userName eq "jtest"';
$r = $t->post('Users/.search', { filter => $long });
is_list_response($r, 1, 1, 'a filter of 301 or-ed terms');
finds('userName eq "bjensen"', [$BJ], 'still serving after the deep filters');

# ------------------------------------------- meta.created gt / lt

my $C = '/created/scim/v2/';
my @first = map { create("${C}Users", { schemas => [URN_USER], userName => "early$_" }) } 1 .. 3;
sleep 1.2;
my @second = map { create("${C}Users", { schemas => [URN_USER], userName => "late$_" }) } 1 .. 2;
my $t_first = $first[-1]{meta}{created} // 'none';
my $t_second = $second[0]{meta}{created} // 'none';
ok(iso8601_ok($t_first) && iso8601_ok($t_second), 'meta.created are dateTimes')
    or diag("$t_first $t_second");
finds(qq(meta.created gt "$t_first"), ['late1', 'late2'], 'meta.created gt the last early one',
      base => $C);
finds(qq(meta.created lt "$t_second"), ['early1', 'early2', 'early3'],
      'meta.created lt the first late one', base => $C);
finds(qq(meta.created ge "$t_second"), ['late1', 'late2'], 'meta.created ge', base => $C);
finds(qq(meta.created le "$t_first"), ['early1', 'early2', 'early3'], 'meta.created le', base => $C);
finds("meta.created gt $t_first", ['late1', 'late2'], 'meta.created gt unquoted', base => $C);
{
    # the same instant written with a +01:00 offset
    my $e = iso8601_epoch($t_first);
    my @g = gmtime(int($e) + 3600);
    my $frac = $t_first =~ /(\.\d+)/ ? $1 : '';
    my $plus1 = sprintf('%04d-%02d-%02dT%02d:%02d:%02d%s+01:00', $g[5] + 1900, $g[4] + 1,
                        @g[3, 2, 1, 0], $frac);
    finds(qq(meta.created gt "$plus1"), ['late1', 'late2'],
          "meta.created gt the same instant as +01:00 ($plus1)", base => $C);
}
finds('meta.lastModified gt "2000-01-01T00:00:00Z" and meta.created lt "2999-01-01T00:00:00Z"',
      ['early1', 'early2', 'early3', 'late1', 'late2'], 'meta ranges combined', base => $C);

# ---------------------------------- scans: tooMany past the bound

my $S = '/scan/scim/v2/';
my @scan = map {
    create("${S}Users", { schemas => [URN_USER], userName => "scan$_", externalId => "x-$_",
                          title => ($_ % 2 ? 'odd' : 'even') })
} 1 .. 8;
$r = $t->get("${S}Users?" . qs(filter => 'title co "d"'));
is_scim_error($r, 400, 'tooMany', 'non-indexed filter over 8 users, scim_filter_max_scan 5 -> 400 tooMany');
$r = $t->get("${S}Users?" . qs(filter => 'not (userName eq "scan1")'));
is_scim_error($r, 400, 'tooMany', 'not (indexed) needs a scan -> 400 tooMany');
$r = $t->get("${S}Users?" . qs(filter => 'userName eq "scan1" or title eq "odd"'));
is_scim_error($r, 400, 'tooMany', 'indexed or non-indexed needs a scan -> 400 tooMany');
$r = $t->post("${S}Users/.search", { schemas => ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
                                     filter => 'title eq "odd"' });
is_scim_error($r, 400, 'tooMany', 'POST .search with a scanning filter -> 400 tooMany');
finds('userName eq "SCAN3"', ['scan3'], 'indexed userName eq still answers past the bound', base => $S);
finds('externalId eq "x-4"', ['scan4'], 'indexed externalId eq still answers', base => $S);
finds(qq(id eq "$scan[5]{id}"), ['scan6'], 'id eq still answers', base => $S);
finds('userName eq "scan2" and title eq "even"', ['scan2'],
      'indexed eq and another condition: lookup, then evaluate', base => $S);
finds('userName eq "scan2" and title eq "odd"', [], '... which can fail', base => $S);

my $SM = '/small/scim/v2/';
create("${SM}Users", { schemas => [URN_USER], userName => "small$_", title => "t$_" }) for 1 .. 4;
finds('title co "t"', ['small1', 'small2', 'small3', 'small4'],
      '4 users under scim_filter_max_scan 5: the scan answers', base => $SM);
finds('title eq "T3"', ['small3'], '... and evaluates', base => $SM);

# a scan over several batches finds every match
my $M = '/many/scim/v2/';
my %needle = map { $_ => 1 } (1, 499, 500, 501, 1000, 1234);
my $made = 0;
for my $i (1 .. 1234) {
    my $res = $t->post("${M}Users", { schemas => [URN_USER], userName => sprintf('m%04d', $i),
                                      title => $needle{$i} ? "the needle $i" : "hay $i" });
    $made++ if $res->{status} == 201;
}
is($made, 1234, '1234 users in tenant "many"');
finds('title co "NEEDLE"', [ map { sprintf('m%04d', $_) } sort { $a <=> $b } keys %needle ],
      'non-indexed filter over 1234 users: every match, across scan batches', base => $M);
$r = $t->get("${M}Users?" . qs(filter => 'title sw "hay"', count => 3));
is_list_response($r, 1228, 3, 'scan with count=3: totalResults counts every match');
$r = $t->get("${M}Users?" . qs(filter => 'title sw "hay"', startIndex => 1227, count => 10));
is_list_response($r, 1228, 2, 'scan, last page');

$t->finish;

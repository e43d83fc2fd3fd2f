package ScimSchemaCheck;

# Checks SCIM resources and ListResponses against schema documents
# (RFC 7643 section 7), as a client that builds its model from /Schemas
# and /ResourceTypes would: every attribute returned is declared (with
# its sub-attributes), and its value has the declared type.
#
#   use ScimSchemaCheck;
#   my $sc = ScimSchemaCheck->from_server(sub { $t->get($_[0]) });
#                      # GETs "Schemas" and "ResourceTypes" (unpaged)
#   my $sc = ScimSchemaCheck->new(schemas => [...], resource_types => [...]);
#                      # from the documents themselves
#   my @p = $sc->check_resource($res_or_data, 'User');
#   my @p = $sc->check_list($res_or_data, 'User');  # or undef: any type
#   my @p = $sc->check_response($res[, 'User']);  # a resource, a
#                      # ListResponse or an Error, by its "schemas"; the
#                      # type, when not given, from meta.resourceType (an
#                      # answer with attributes= may have no meta)
#   is_deeply(\@p, [], '...');         # one line a problem, [] = conforms
#   $sc->seen   -> { 'User:emails.value' => count, ... } every attribute
#                  path checked so far (to show that a test saw what it
#                  meant to check)
#
# A response (a hash with "content", as ScimTest's request returns) is
# decoded here again, so that a string stays a string even when the test
# used it as a number; decoded data is checked as it is.
#
# The rules:
#   - top level: "schemas" (an array of strings with the resource type's
#     core schema, every other entry one of its schemaExtensions), the
#     common attributes of RFC 7643 3.1 (id, externalId, meta with
#     resourceType, created, lastModified, location, version: schema
#     documents do not carry them, RFC 7643 3.1), the core schema's
#     attributes, and one object per extension URN, which "schemas" must
#     list;
#   - names compared exactly (a server returns the schema's spelling);
#   - multiValued: a JSON array; else not an array;
#   - string and binary: a JSON string (binary: base64); boolean: true or
#     false; integer: an integral number; decimal: a number; dateTime: an
#     xsd:dateTime string; reference: a string, and with referenceTypes
#     of resource types only (User, Group, ...) an absolute URL ending in
#     "/<endpoint>/<id>" of one of them; complex: an object whose members
#     are declared sub-attributes (sub-attributes are not complex);
#   - returned "never": never present;
#   - meta.resourceType is the resource's type, meta.location ends with
#     "<endpoint>/<id>".

use strict;
use warnings;

use B ();
use JSON::PP ();

use constant {
    URN_LIST  => 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
    URN_ERROR => 'urn:ietf:params:scim:api:messages:2.0:Error',
};

my $DATETIME = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?
                  (?:Z|[+-]\d\d:\d\d)$/x;

# RFC 7643 3.1: the common attributes, as a schema would declare them
my @COMMON = (
    { name => 'id', type => 'string', multiValued => JSON::PP::false,
      returned => 'always', mutability => 'readOnly' },
    { name => 'externalId', type => 'string',
      multiValued => JSON::PP::false, mutability => 'readWrite' },
    { name => 'meta', type => 'complex', multiValued => JSON::PP::false,
      mutability => 'readOnly', subAttributes => [
        { name => 'resourceType', type => 'string' },
        { name => 'created', type => 'dateTime' },
        { name => 'lastModified', type => 'dateTime' },
        { name => 'location', type => 'reference',
          referenceTypes => ['uri'] },
        { name => 'version', type => 'string' },
      ] },
);


sub new {
    my ($class, %o) = @_;
    my $self = bless { schemas => {}, types => {}, seen => {},
                       list_keys => { map { $_ => 1 } @{ $o{list_keys}
                                                          // [] } } },
                     $class;

    for my $s (@{ $o{schemas} // [] }) {
        $self->{schemas}{ $s->{id} } = $s if ref $s eq 'HASH'
                                             && defined $s->{id};
    }

    for my $rt (@{ $o{resource_types} // [] }) {
        next unless ref $rt eq 'HASH' && defined $rt->{name};
        (my $ep = $rt->{endpoint} // '') =~ s{^/}{};
        $self->{types}{ $rt->{name} } = {
            schema => $rt->{schema} // '',
            endpoint => $ep,
            ext => { map { ($_->{schema} // '') => 1 }
                     @{ $rt->{schemaExtensions} // [] } },
        };
    }

    return $self;
}


# $get->(path) returns a ScimTest response
sub from_server {
    my ($class, $get, %o) = @_;
    my (%docs);

    for my $what ('Schemas', 'ResourceTypes') {
        my $r = $get->($what);
        my $j = ref $r eq 'HASH' ? $r->{json} : undef;
        $docs{$what} = (ref $j eq 'HASH' && ref $j->{Resources} eq 'ARRAY')
                       ? $j->{Resources} : [];
    }

    return $class->new(%o, schemas => $docs{Schemas},
                       resource_types => $docs{ResourceTypes});
}


sub schema { $_[0]{schemas}{ $_[1] } }
sub resource_types { sort keys %{ $_[0]{types} } }
sub seen { $_[0]{seen} }


sub _data {
    my ($x) = @_;
    if (ref $x eq 'HASH' && exists $x->{content} && exists $x->{status}) {
        my $d = eval { JSON::PP->new->decode($x->{content} // '') };
        return ($d, defined $d ? undef : 'the body is not JSON');
    }
    return ($x, undef);
}


sub check_response {
    my ($self, $res, $type) = @_;
    my ($d, $err) = _data($res);

    return ($err) if defined $err;
    return ('the body is not an object') unless ref $d eq 'HASH';

    my $s = ref $d->{schemas} eq 'ARRAY' ? $d->{schemas} : [];

    if (grep { defined && !ref && $_ eq URN_LIST } @$s) {
        return $self->check_list($d, $type);
    }

    return () if grep { defined && !ref && $_ eq URN_ERROR } @$s;

    return $self->check_resource($d, $type);
}


sub check_list {
    my ($self, $res, $type) = @_;
    my ($d, $err) = _data($res);
    my @p;

    return ($err) if defined $err;
    return ('a ListResponse must be an object') unless ref $d eq 'HASH';

    unless (ref $d->{schemas} eq 'ARRAY' && @{ $d->{schemas} } == 1
            && ($d->{schemas}[0] // '') eq URN_LIST)
    {
        push @p, 'ListResponse: "schemas" must be ["' . URN_LIST . '"]';
    }

    for my $k (sort keys %$d) {
        if ($k eq 'totalResults' || $k eq 'itemsPerPage'
            || $k eq 'startIndex')
        {
            push @p, "ListResponse: $k must be a non-negative integer"
                unless _is_number($d->{$k}) && $d->{$k} =~ /^\d+$/;

        } elsif ($k eq 'Resources') {
            unless (ref $d->{Resources} eq 'ARRAY') {
                push @p, 'ListResponse: Resources must be an array';
                next;
            }
            my $i = 0;
            for my $r (@{ $d->{Resources} }) {
                push @p, map { "Resources[$i]: $_" }
                         $self->check_resource($r, $type);
                $i++;
            }

        } elsif ($k ne 'schemas' && !$self->{list_keys}{$k}) {
            push @p, "ListResponse: \"$k\" is no ListResponse attribute";
        }
    }

    push @p, 'ListResponse: no totalResults'
        unless exists $d->{totalResults};

    return @p;
}


sub check_resource {
    my ($self, $res, $type) = @_;
    my ($d, $err) = _data($res);
    my (@p, %ext, $rt, $core);

    return ($err) if defined $err;
    return ('a resource must be an object') unless ref $d eq 'HASH';

    my $meta = ref $d->{meta} eq 'HASH' ? $d->{meta} : {};
    $type //= $meta->{resourceType};

    unless (defined $type && !ref $type && $self->{types}{$type}) {
        return ('no resource type "' . ($type // '(none)')
                . '" in /ResourceTypes');
    }

    $rt = $self->{types}{$type};
    $core = $self->{schemas}{ $rt->{schema} };
    return ("$type: its schema $rt->{schema} is not in /Schemas")
        unless $core;

    if (ref $d->{schemas} ne 'ARRAY' || grep { !defined || ref } @{ $d->{schemas} }) {
        push @p, "$type: \"schemas\" must be an array of strings";
    } else {
        my %in = map { $_ => 1 } @{ $d->{schemas} };
        push @p, "$type: \"schemas\" lacks $rt->{schema}"
            unless $in{ $rt->{schema} };
        for my $u (keys %in) {
            next if $u eq $rt->{schema};
            if ($rt->{ext}{$u}) {
                $ext{$u} = 1;
            } else {
                push @p, "$type: \"schemas\" holds $u, no extension of $type";
            }
        }
    }

    my %attrs = map { $_->{name} => $_ } @COMMON,
                    @{ $core->{attributes} // [] };

    for my $k (sort keys %$d) {
        next if $k eq 'schemas';

        if ($rt->{ext}{$k}) {
            my $es = $self->{schemas}{$k};
            if (!$es) {
                push @p, "$type: extension $k is not in /Schemas";
            } elsif (!$ext{$k}) {
                push @p, "$type: \"$k\" present but not in \"schemas\"";
            }
            if (ref $d->{$k} ne 'HASH') {
                push @p, "$type: \"$k\" must be an object";
                next;
            }
            next unless $es;
            my %ea = map { $_->{name} => $_ } @{ $es->{attributes} // [] };
            for my $ek (sort keys %{ $d->{$k} }) {
                push @p, $self->_attr("$type:$k:", $ea{$ek}, $ek,
                                      $d->{$k}{$ek}, \%ea);
            }
            next;
        }

        push @p, $self->_attr("$type:", $attrs{$k}, $k, $d->{$k}, \%attrs);
    }

    push @p, "$type: no id" unless defined $d->{id} && !ref $d->{id}
                                   && length $d->{id};

    if (%$meta) {
        push @p, "$type: meta.resourceType is "
                 . ($meta->{resourceType} // '(none)')
            unless ($meta->{resourceType} // '') eq $type;
        my $id = $d->{id} // '';
        push @p, "$type: meta.location "
                 . ($meta->{location} // '(none)')
                 . " does not end with $rt->{endpoint}/<id>"
            if defined $meta->{location}
               && $meta->{location} !~ m{/\Q$rt->{endpoint}\E/([^/]+)$};
    }

    return @p;
}


# one attribute (a: its declaration, undef if none) named k, value v;
# where: "Type:" or "Type:urn:" prefix of the path; scope: its siblings
sub _attr {
    my ($self, $where, $a, $k, $v, $scope) = @_;
    my $path = $where . $k;

    unless ($a) {
        my ($ci) = grep { lc $_ eq lc $k } keys %$scope;
        return ("$path: not declared"
                . (defined $ci ? " (the schema spells it \"$ci\")" : ''));
    }

    $self->{seen}{$path}++;

    return ("$path: returned \"never\", yet present")
        if ($a->{returned} // 'default') eq 'never';

    if (_true($a->{multiValued})) {
        return ("$path: multiValued, not an array") unless ref $v eq 'ARRAY';
        my @p;
        my $i = 0;
        push @p, $self->_value("$path\[" . $i++ . ']', $a, $_, $path)
            for @$v;
        return @p;
    }

    return ("$path: single-valued, yet an array") if ref $v eq 'ARRAY';

    return $self->_value($path, $a, $v, $path);
}


sub _value {
    my ($self, $path, $a, $v, $seen) = @_;
    my $t = $a->{type} // '(no type)';

    return ("$path: null") unless defined $v;

    if ($t eq 'complex') {
        return ("$path: complex, not an object") unless ref $v eq 'HASH';
        my %sub = map { $_->{name} => $_ } @{ $a->{subAttributes} // [] };
        my @p;
        for my $k (sort keys %$v) {
            my $s = $sub{$k};
            unless ($s) {
                my ($ci) = grep { lc $_ eq lc $k } keys %sub;
                push @p, "$path.$k: no sub-attribute of "
                         . ($a->{name} // '?')
                         . (defined $ci ? " (the schema spells it \"$ci\")"
                                        : '');
                next;
            }
            $self->{seen}{"$seen.$k"}++;
            if (($s->{returned} // 'default') eq 'never') {
                push @p, "$path.$k: returned \"never\", yet present";
                next;
            }
            if (($s->{type} // '') eq 'complex') {
                push @p, "$path.$k: a complex sub-attribute";
                next;
            }
            if (_true($s->{multiValued})) {
                unless (ref $v->{$k} eq 'ARRAY') {
                    push @p, "$path.$k: multiValued, not an array";
                    next;
                }
                my $i = 0;
                push @p, $self->_value("$path.$k\[" . $i++ . ']', $s, $_,
                                       "$seen.$k")
                    for @{ $v->{$k} };
                next;
            }
            if (ref $v->{$k} eq 'ARRAY') {
                push @p, "$path.$k: single-valued, yet an array";
                next;
            }
            push @p, $self->_value("$path.$k", $s, $v->{$k}, "$seen.$k");
        }
        return @p;
    }

    return ("$path: $t, yet " . (ref $v || 'a scalar') . ' "'
            . (ref $v ? '' : $v) . '"')
        unless _scalar_ok($t, $v);

    return $self->_ref($path, $a, $v) if $t eq 'reference';

    return ();
}


sub _ref {
    my ($self, $path, $a, $v) = @_;
    my @rts = @{ $a->{referenceTypes} // [] };

    return () if !@rts || grep { $_ eq 'external' || $_ eq 'uri' } @rts;

    my @eps = map { $self->{types}{$_} ? $self->{types}{$_}{endpoint} : () }
              @rts;
    return () unless @eps;

    for my $ep (@eps) {
        return () if $v =~ m{^https?://[^/]+(?:/.*)?/\Q$ep\E/[^/]+$};
    }

    return ("$path: \"$v\" is no URL of a " . join(' or ', @rts));
}


sub _scalar_ok {
    my ($t, $v) = @_;

    return JSON::PP::is_bool($v) if $t eq 'boolean';
    return 0 if ref $v;
    return _is_number($v) if $t eq 'decimal';
    return _is_number($v) && $v == int($v) if $t eq 'integer';
    return 0 unless _is_string($v);
    return $v =~ $DATETIME if $t eq 'dateTime';
    return $v =~ m{^[A-Za-z0-9+/]*={0,2}$} && length($v) % 4 == 0
        if $t eq 'binary';
    return 1 if $t eq 'string' || $t eq 'reference';
    return 0;
}


sub _is_number {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & (B::SVp_IOK | B::SVp_NOK)) && !($f & B::SVp_POK) ? 1 : 0;
}


sub _is_string {
    my ($v) = @_;
    return 0 if !defined $v || ref $v;
    my $f = B::svref_2object(\$v)->FLAGS;
    return ($f & B::SVp_POK) ? 1 : 0;
}


sub _true {
    my ($v) = @_;
    return defined $v && (JSON::PP::is_bool($v) ? $v : $v) ? 1 : 0;
}


1;

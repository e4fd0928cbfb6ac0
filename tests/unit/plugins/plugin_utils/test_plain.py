"""to_plain and MemberVars against what ansible-core's own templar hands a filter."""

import copy

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.nsfd.namespaces.plugins.plugin_utils.hostvars import MemberVars
from ansible_collections.nsfd.namespaces.plugins.plugin_utils.plain import to_plain

VARIABLES = {
    'addr': '10.66.0.1/24',
    'declared': [
        {
            'name': 'blue',
            'mtu': trust_as_template('{{ missing | default(omit) }}'),
            'addresses': [trust_as_template("{{ addr | default('x') }}")],
            'id': trust_as_template('{{ 100 + 1 }}'),
            'on': trust_as_template('{{ true | ternary(1, 0) > 0 }}'),
        }
    ],
}


def _render(expression):
    return Templar(loader=DataLoader(), variables=VARIABLES).template(trust_as_template(expression))


def _types(value):
    if isinstance(value, dict):
        return set([type(value)]).union(*[_types(k) | _types(v) for k, v in value.items()])
    if isinstance(value, list):
        return set([type(value)]).union(*[_types(v) for v in value])
    return {type(value)}


def test_rendered_lazy_data_becomes_plain_and_omit_leaves_the_key_out():
    # a filter's argument, as the templar builds it
    value = _render('{{ declared }}')
    plain = to_plain(value)
    assert plain == [{'name': 'blue', 'addresses': ['10.66.0.1/24'], 'id': 101, 'on': True}]
    assert _types(plain) <= {list, dict, str, int, bool}, 'no lazy container or tagged value is left'
    assert copy.deepcopy(plain) == plain


def test_scalars_lose_their_tags_and_keep_their_kind():
    assert to_plain(trust_as_template('text')).__class__ is str
    assert to_plain(True) is True and to_plain(3).__class__ is int and to_plain(None) is None
    assert to_plain(('a', 1)) == ['a', 1]


class _Lazy(dict):
    """Stands for Ansible's hostvars: counts the variables read."""

    reads = []

    def get(self, name, default=None):
        _Lazy.reads.append(name)
        return dict.get(self, name, default)


def test_member_vars_reads_only_the_variables_asked_for():
    hostvars = {'h1': _Lazy(ansible_host=trust_as_template('192.0.2.1'), big=list(range(1000))), 'h2': _Lazy()}
    members = MemberVars(hostvars)
    assert 'h1' in members and 'h3' not in members
    assert members['h1'].get('ansible_host').__class__ is str and members['h1'].get('nope') is None
    assert _Lazy.reads == ['ansible_host', 'nope']

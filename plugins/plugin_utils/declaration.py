# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The netns role's declaration for one host, checked and split once, on the controller.

The role's inputs (netns_namespaces + netns_namespaces_extra, the fleet's
netns_segments) become what its two modules take: the namespaces for
netns_config (segments merged in, the role's own `services` key removed) and
the services for netns_service. Every mistake fails here, naming the
namespace and the value, before any task touches the host.
"""

import json

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError
from ansible_collections.nsfd.namespaces.plugins.module_utils.segments.fleet import expand_for_host

SERVICE_KEYS = ('name', 'restart', 'writable_etc', 'bind_etc')
# a service may repeat its namespace's name (it is set from the namespace anyway)
ACCEPTED_SERVICE_KEYS = frozenset(SERVICE_KEYS + ('namespace',))


def _json(value):
    return json.dumps(value, sort_keys=True)


def _present(namespace):
    return isinstance(namespace, dict) and namespace.get('state', 'present') == 'present'


def _service_problems(namespace):
    """What is wrong with one declared namespace's `services`, in words."""
    services = namespace.get('services') or []
    if not isinstance(services, list):
        return ['%s: services %s is not a list' % (namespace.get('name'), _json(services))]
    return ['%s: service %s is neither a unit name nor a mapping with a name and only the keys %s'
            % (namespace.get('name'), _json(service), ', '.join(SERVICE_KEYS))
            for service in services
            if not (isinstance(service, str) or (isinstance(service, dict) and isinstance(service.get('name'), str)
                                                 and set(service) <= ACCEPTED_SERVICE_KEYS))]


def declared_services(namespaces):
    """[{name, namespace, restart?, writable_etc?, bind_etc?}] of every present namespace, checked."""
    problems = []
    services = []
    for namespace in namespaces:
        if not _present(namespace):
            continue
        found = _service_problems(namespace)
        problems.extend(found)
        if not found:
            for service in namespace.get('services') or []:
                entry = {'name': service} if isinstance(service, str) else dict(service)
                entry['namespace'] = namespace.get('name')
                services.append(entry)
    if problems:
        raise NamespaceError('netns_namespaces: %s' % '; '.join(problems))
    names = [service['name'] for service in services]
    if len(set(names)) != len(names):
        raise NamespaceError('netns_namespaces: services %s: each service may be in one namespace only'
                             % _json(services))
    return services


def host_declaration(namespaces, segments, host, hostvars, underlay_var='ansible_host', underlay_device=None,
                     facts=None):
    """{'namespaces': netns_config's list, 'services': netns_service's list} of one host; plain data in."""
    services = declared_services(namespaces)
    if segments:
        namespaces = expand_for_host(segments, host, hostvars, namespaces=namespaces, underlay_var=underlay_var,
                                     underlay_device=underlay_device, facts=facts)
    config = [dict((key, value) for key, value in namespace.items() if key != 'services')
              if isinstance(namespace, dict) else namespace for namespace in namespaces]
    return {'namespaces': config, 'services': services}

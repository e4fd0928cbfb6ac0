# -*- coding: utf-8 -*-
# Copyright (c) nsfd.namespaces contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The glue every module of this collection shares: errors and results."""

from ansible_collections.nsfd.namespaces.plugins.module_utils.errors import NamespaceError


def run(module, operation):
    """Call operation() and finish the module with its Result (or failure).

    fail_json gets a message naming the namespace, the path and the errno,
    plus 'done': what had been changed before the failure.
    """
    try:
        result = operation()
    except NamespaceError as exc:
        module.fail_json(**exc.to_result())
    for warning in result.warnings:
        module.warn(warning)
    output = result.as_dict()
    diff = output.pop('diff', None)
    if module._diff and diff is not None:
        output['diff'] = diff
    module.exit_json(**output)

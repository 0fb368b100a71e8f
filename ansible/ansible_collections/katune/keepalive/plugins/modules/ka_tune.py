#!/usr/bin/python
# -*- coding: utf-8 -*-
# ka_tune.py: the Ansible module of ka-tune(8). It only turns its options into ka-tune command
# lines with --json (and --dry-run in check mode) and ka-tune's JSON result into Ansible's: the
# work, the all-or-nothing and the messages are ka-tune's.
#
# Copyright (c) 2026 the ka-tune developers. ISC license: see LICENSE at the top of ka-tune.

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: ka_tune
short_description: TCP keepalive sysctls, now and at boot, through ka-tune
version_added: "0.1.0"
description:
  - Sets C(net.ipv4.tcp_keepalive_time), C(net.ipv4.tcp_keepalive_intvl) and
    C(net.ipv4.tcp_keepalive_probes) in the running kernel and in the sysctl.d file
    C(/etc/sysctl.d/90-ka-tune.conf) for the next boot, by running the ka-tune binary on the
    managed host with C(--json).
  - With I(runtime) and I(persist) both true (the default), it runs C(ka-tune set --persist),
    so the kernel and the file change together; if the file cannot be written, the running
    values are put back, and the task fails with ka-tune's message.
  - Check mode runs ka-tune with C(--dry-run); diff mode shows the running values and the
    file's text before and after. C(changed) is ka-tune's own verdict.
options:
  time:
    description:
      - Idle time before the first probe, 1 to 32767 seconds, as ka-tune takes it
        (C(600), C(10m), C(1m30s)).
    type: raw
  intvl:
    description:
      - Time between probes, 1 to 32767 seconds, as for I(time).
    type: raw
  probes:
    description:
      - Unanswered probes before the peer is dead, 1 to 127.
    type: int
  state:
    description:
      - C(present) sets the values given; the keys not given are left as they are in the
        kernel, and the file gets their running values.
      - C(absent) takes the three keys out of the file (C(ka-tune persist --remove), the file
        too when nothing else is left in it); with I(runtime), the running values then become
        what the machine sets at boot without them (C(ka-tune apply)), the kernel defaults
        unless another sysctl.d file sets the keys. It needs I(persist) and takes no values.
    type: str
    choices: [present, absent]
    default: present
  runtime:
    description:
      - Change the running kernel. The default is true, unless I(root) is given (an image
        tree's kernel is not the one running).
    type: bool
  persist:
    description:
      - Change the sysctl.d file, for the next boot.
    type: bool
    default: true
  file:
    description:
      - The sysctl.d file to write instead of C(/etc/sysctl.d/90-ka-tune.conf). Its
        directory must exist; its name should end in C(.conf).
    type: path
  root:
    description:
      - An image tree (a chroot being built), to write I(root)C(/etc/sysctl.d/90-ka-tune.conf).
        Excludes I(file) and I(runtime). Give all three values, or the running kernel's
        values fill in the others.
    type: path
  loader:
    description:
      - The boot loader whose behaviour C(ka-tune apply) follows for I(state=absent) with
        I(runtime); by default the machine's (C(systemd) where it runs, else C(procps)).
    type: str
    choices: [systemd, procps]
  binary:
    description:
      - The ka-tune binary, a path or a name looked for in C(PATH), C(/usr/sbin) and
        C(/usr/local/sbin).
    type: path
    default: ka-tune
notes:
  - The keys are per network namespace; the module acts on the one of the process Ansible
    runs, and the file sets the host's at boot.
  - In check mode with I(state=absent) and I(runtime), the running values shown are those of
    the boot files before the removal; C(changed) is right all the same.
requirements:
  - ka-tune 0.1.0 or later on the managed host (C(ka-tune --help) lists C(set --persist)).
author:
  - the ka-tune developers
'''

EXAMPLES = r'''
- name: Keepalive behind an AWS NAT gateway (350 s idle timeout), now and at boot
  katune.keepalive.ka_tune:
    time: 4m
    intvl: 75
    probes: 9

- name: Only the running kernel (a test, say)
  katune.keepalive.ka_tune:
    time: 10m
    persist: false

- name: Only the file, in an image being built
  katune.keepalive.ka_tune:
    root: /srv/image
    time: 300
    intvl: 30
    probes: 5

- name: Back to what the machine has without ka-tune's settings
  katune.keepalive.ka_tune:
    state: absent
'''

RETURN = r'''
running:
  description:
    - The running values ka-tune read and set, key by key (C(time), C(intvl), C(probes)), each
      with C(before) and C(after); with I(state=absent), also C(from), the file and line the
      boot value comes from (null for the kernel default). Null when the kernel was not
      touched.
  returned: always
  type: dict
  sample: {"time": {"before": 7200, "after": 240}}
file:
  description:
    - The file, with C(path), C(outcome) (C(changed), C(unchanged) or C(removed)), its text
      C(before) and C(after) (null where there is no file), and for each key its C(change) and
      its values C(before) and C(after). Null when no file was involved.
  returned: always
  type: dict
  sample: {"path": "/etc/sysctl.d/90-ka-tune.conf", "outcome": "changed"}
commands:
  description: The ka-tune command lines run, in order.
  returned: always
  type: list
  elements: list
'''

import json

from ansible.module_utils.basic import AnsibleModule


def ka_tune(module, binary, args, commands):
    """Run ka-tune with args, --json and, in check mode, --dry-run; return its JSON result.
    On failure, fail the task with ka-tune's own message."""
    cmd = [binary] + args + ['--json'] + (['--dry-run'] if module.check_mode else [])
    commands.append(cmd)
    rc, out, err = module.run_command(cmd)
    try:
        result = json.loads(out)
    except ValueError:
        module.fail_json(msg=err.strip() or 'ka-tune printed no JSON result', rc=rc,
                         stdout=out, stderr=err, commands=commands)
    for warning in result.get('warnings', []):
        module.warn('ka-tune: %s' % warning['message'])
    if rc != 0:
        module.fail_json(msg=result.get('error') or err.strip(), rc=rc,
                         changed=result.get('changed', False), running=result.get('running'),
                         file=result.get('file'), commands=commands)
    return result


def values_text(running, when):
    """The running values as sysctl.d lines, for the diff."""
    return ''.join('net.ipv4.tcp_keepalive_%s = %d\n' % (key, value[when])
                   for key, value in running.items())


def diff_of(results):
    """Ansible's diff: the running values and the file's text, before and after."""
    diff = []
    for result in results:
        running, file_ = result.get('running'), result.get('file')
        if running:
            diff.append({'before_header': 'running values', 'after_header': 'running values',
                         'before': values_text(running, 'before'),
                         'after': values_text(running, 'after')})
        if file_:
            diff.append({'before_header': file_['path'], 'after_header': file_['path'],
                         'before': file_['before'] or '', 'after': file_['after'] or ''})
    return diff


def command_lines(params):
    """The ka-tune argument lists for the task, or an error message."""
    values = []
    for key in ('time', 'intvl', 'probes'):
        if params[key] is not None:
            values += ['--%s' % key, str(params[key])]
    where = []
    if params['file']:
        where = ['--file', params['file']]
    elif params['root']:
        where = ['--root', params['root']]
    runtime, persist = params['runtime'], params['persist']
    if runtime is None:
        runtime = not params['root']
    if params['root'] and runtime:
        return 'root is an image tree, whose kernel is not the one running: set runtime: false'
    if params['state'] == 'absent':
        if values:
            return 'state=absent takes no time, intvl or probes'
        if not persist:
            return 'state=absent takes ka-tune\'s keys out of its file: it needs persist'
        loader = ['--loader', params['loader']] if params['loader'] else []
        return [['persist', '--remove'] + where] + ([['apply'] + loader] if runtime else [])
    if not values:
        return 'give time, intvl or probes (or state=absent)'
    if runtime and persist:
        return [['set', '--persist'] + values + where]
    if runtime:
        return [['set'] + values]
    if persist:
        return [['persist'] + values + where]
    return 'runtime and persist are both false: there is nothing to do'


def main():
    module = AnsibleModule(
        argument_spec=dict(
            time=dict(type='raw'),
            intvl=dict(type='raw'),
            probes=dict(type='int'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            runtime=dict(type='bool'),
            persist=dict(type='bool', default=True),
            file=dict(type='path'),
            root=dict(type='path'),
            loader=dict(type='str', choices=['systemd', 'procps']),
            binary=dict(type='path', default='ka-tune'),
        ),
        mutually_exclusive=[('file', 'root')],
        supports_check_mode=True,
    )
    lines = command_lines(module.params)
    if isinstance(lines, str):
        module.fail_json(msg=lines)
    binary = module.params['binary']
    if '/' not in binary:
        binary = module.get_bin_path(binary, required=True,
                                     opt_dirs=['/usr/sbin', '/usr/local/sbin'])
    commands = []
    results = [ka_tune(module, binary, args, commands) for args in lines]
    running = next((r['running'] for r in results if r.get('running')), None)
    file_ = next((r['file'] for r in results if r.get('file')), None)
    module.exit_json(changed=any(r['changed'] for r in results), running=running, file=file_,
                     commands=commands, diff=diff_of(results))


if __name__ == '__main__':
    main()

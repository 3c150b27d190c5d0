// The state machine's structure and paths, executed by aws-local-stepfunctions with stand-in
// handlers per Task (the real C# handlers run in the end-to-end suite). Run: node --test tests/workflow
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, raw, substitute, substitutions as defaults, stepOf, catalog } from './definition.mjs';

const { StateMachine } = await import('aws-local-stepfunctions');
const substitutions = defaults();
const substituted = substitute(substitutions);
const definition = JSON.parse(substituted);
const states = definition.States;

test('every placeholder is one the deployment substitutes, and none is left', () => {
  const used = new Set([...raw.matchAll(/\$\{(\w+)\}/g)].map(m => m[1]));
  assert.deepEqual([...used].sort(), Object.keys(substitutions).sort());
  assert.ok(!substituted.includes('${'));
});

test('asl-validator accepts the substituted definition', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'nodefleet-asl-')), 'autoscaler.asl.json');
  writeFileSync(file, substituted);
  const run = spawnSync(join(root, 'node_modules', '.bin', 'asl-validator'), ['--json-path', file], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});

test('every Task sends an explicit request and writes one declared slot that Decide creates', () => {
  const decide = states.Decide;
  const slots = [...Object.keys(decide.ResultSelector).filter(k => !k.endsWith('.$') && decide.ResultSelector[k] === null), 'observation'];
  for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
    assert.ok(state.Parameters, `${name} has no Parameters`);
    if (name === 'Decide') { assert.equal(state.ResultPath, undefined, 'Decide replaces the state with its ResultSelector'); continue; }
    // The input may be the fast path's array (the Pipe's batch): no ResultPath merges into an array, so CollectMetrics replaces it with its one slot.
    if (name === 'CollectMetrics') { assert.equal(state.ResultPath, undefined); assert.deepEqual(state.ResultSelector, { 'observation.$': '$' }); continue; }
    assert.match(state.ResultPath, /^\$\.[a-z]+$/, `${name} writes ${state.ResultPath}`);
    assert.ok(slots.includes(state.ResultPath.slice(2)), `${name} writes ${state.ResultPath}, a slot Decide does not create`);
  }
  const written = new Set(Object.values(states).filter(s => s.Type === 'Task').map(s => s.ResultPath?.slice(2)));
  for (const slot of slots.filter(s => s !== 'error' && s !== 'observation')) assert.ok(written.has(slot), `slot ${slot} is created but never written`);
});

test('Choices match the route Decide chose; none re-derives it from the action', () => {
  for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === 'Choice')) {
    const text = JSON.stringify(state.Choices);
    assert.ok(!text.includes('$.decision.action') && !text.includes('$.decision.dryRun') && !text.includes('$.decision.nodesToAdd'), `${name} reads the decision's action or figures`);
  }
});

test('every Task retries Lambda\'s transient errors with backoff and full jitter', () => {
  for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
    const first = state.Retry?.[0];
    assert.ok(first, `${name} has no Retry`);
    for (const error of ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException']) {
      assert.ok(first.ErrorEquals.includes(error), `${name} does not retry ${error}`);
    }
    assert.ok(first.BackoffRate > 1 && first.JitterStrategy === 'FULL', `${name}: no backoff with jitter`);
  }
});

test('each Task retries exactly the transient errors its step lists in steps.json, and Lambda.Unknown only where the step is idempotent', () => {
  const lambda = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
  for (const [name, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
    const step = catalog.find(c => c.name === stepOf(state));
    assert.ok(step, `${name} invokes ${stepOf(state)}, which steps.json does not list`);
    const retried = state.Retry.flatMap(r => r.ErrorEquals);
    assert.equal(new Set(retried).size, retried.length, `${name} lists an error twice`);
    const expected = [...lambda, ...(step.idempotent ? ['Lambda.Unknown'] : []), ...step.retries];
    assert.deepEqual([...retried].sort(), [...expected].sort(), `${name} (${step.name})`);
    for (const never of step.throws) assert.ok(!retried.includes(never), `${name} retries ${never}, which would fail again`);
  }
});

test('every step in steps.json is invoked by some Task', () => {
  const invoked = new Set(Object.values(states).filter(s => s.Type === 'Task').map(stepOf));
  assert.deepEqual([...invoked].sort(), catalog.map(c => c.name).sort());
});

/** Every state reachable from a state, following Next, Default, Choices and Catch. */
function reachable(from, skip = new Set()) {
  const seen = new Set(); const queue = [from];
  while (queue.length) {
    const name = queue.shift();
    if (seen.has(name) || skip.has(name)) continue;
    seen.add(name);
    const s = states[name];
    for (const next of [s.Next, s.Default, ...(s.Choices ?? []).map(c => c.Next), ...(s.Catch ?? []).map(c => c.Next)]) if (next) queue.push(next);
  }
  return seen;
}

test('every Task after the lock is caught by a path that records the failure and releases the lease', () => {
  const ending = new Set(['Record', 'Notify', 'Ended?', 'Failed', 'Done']);
  const afterLock = [...reachable('Locked?', ending)].filter(n => states[n].Type === 'Task');
  assert.ok(afterLock.length >= 9);
  for (const name of afterLock) {
    const catcher = states[name].Catch?.find(c => c.ErrorEquals.includes('States.ALL'));
    assert.ok(catcher, `${name} has no Catch`);
    assert.equal(catcher.ResultPath, '$.error');
    assert.ok(reachable(catcher.Next).has('Record'), `${name}'s Catch does not lead to Record`);
  }
});

// ---- Paths, executed ----

const routes = { None: 'Done', ScaleUp: 'Launch', ScaleDown: 'Drain' };
const decision = (action, extra = {}) => {
  const d = { action, reasonCode: action === 'Replace' ? 'Interrupted' : 'X', reason: `${action} because`, dryRun: false, nodesToAdd: 0, cooldown: 'None', decidedAt: '2026-11-18T12:00:00Z', figures: {}, notes: [], zones: [], noScaleUp: [], alsoEmpty: [], reconcile: null, alert: false, ...extra };
  d.reconciles ??= !!(d.reconcile && (d.reconcile.orphans?.length || d.reconcile.ghosts?.length || d.reconcile.strayCordons?.length || d.reconcile.expiredLaunches?.length));
  d.route ??= d.dryRun && (action !== 'None' || d.reconciles) ? 'NotifyOnly' : action === 'Replace' ? (d.nodesToAdd > 0 ? 'Replace' : 'Retire') : action === 'None' && d.reconciles ? 'Reconcile' : routes[action];
  d.preempts ??= action === 'Replace' && d.reasonCode === 'Interrupted' && !d.dryRun;
  d.preemptsDrain ??= action === 'ScaleUp' && d.reasonCode === 'PendingPods' && !d.dryRun;
  return d;
};
const named = (name, message = name) => Object.assign(new Error(message), { name });

/** Runs the machine; each Task state is answered by the handler of the step its Resource names. Calls are kept per step. */
async function run(handlers, input = {}) {
  const calls = {};
  const wrapped = {};
  for (const [stateName, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
    const step = stepOf(state);
    if (!handlers[step]) continue;
    wrapped[stateName] = async (event) => {
      (calls[step] ??= []).push(event);
      return handlers[step](event, calls[step].length);
    };
  }
  const execution = new StateMachine(definition, { validationOptions: { checkArn: false } }).run(input, {
    overrides: {
      taskResourceLocalHandlers: wrapped,
      waitTimeOverrides: Object.fromEntries(Object.entries(states).filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, 0])),
      retryIntervalOverrides: Object.fromEntries(Object.keys(states).map(n => [n, 0])),
    },
    context: { Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:nodefleet:exec-1' } },
  });
  const entered = [];
  const logs = (async () => { for await (const e of execution.eventLogs) if (e.type === 'StateEntered') entered.push(e.state.name); })();
  let output, error;
  try { output = await execution.result; } catch (e) { error = e; }
  await logs;
  return { output, error, entered, calls };
}

const observe = () => ({ trigger: { kind: 'Schedule' }, snapshot: { nodes: ['big'] }, fleet: {} });
const ok = () => ({ summary: 'ok', ids: [] });

test('a no-op tick takes four state transitions', async () => {
  const { entered, error } = await run({ CollectMetrics: observe, Decide: () => decision('None') });
  assert.equal(error, undefined);
  assert.deepEqual(entered, ['CollectMetrics', 'Decide', 'Act?', 'Done']);
});

test('scale up: lock, launch, wait until Ready, record, notify; the snapshot is gone by then', async () => {
  const { entered, calls, error } = await run({
    CollectMetrics: observe,
    Decide: () => decision('ScaleUp', { nodesToAdd: 2 }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 3 }),
    LaunchNodes: () => ({ launchId: 'launch-exec-1', requested: 2, startedAt: '2026-11-18T12:00:00Z', instances: [{ instanceId: 'i-1' }, { instanceId: 'i-2' }] }),
    CheckNodesReady: (_, n) => ({ status: n < 3 ? 'Waiting' : 'AllReady', deadline: '2026-11-18T12:10:00Z' }),
    UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.equal(calls.CheckNodesReady.length, 3);
  // UpdateState gets the path's results and derives ScaledUp from them (tested in C#: OutcomesTests).
  assert.equal(calls.UpdateState[0].readiness.status, 'AllReady');
  assert.equal(calls.UpdateState[0].terminated, null);
  assert.equal(calls.UpdateState[0].lock.fence, 3);
  assert.deepEqual(Object.keys(calls.UpdateState[0]).sort(), ['decision', 'drain', 'error', 'launch', 'lock', 'readiness', 'reconciled', 'terminated']);
  assert.deepEqual(calls.LaunchNodes[0], { executionId: 'arn:aws:states:us-east-1:123456789012:execution:nodefleet:exec-1', nodesToAdd: 2, route: 'Launch', zones: [], lock: { acquired: true, owner: 'exec-1', fence: 3 } });
  assert.deepEqual(Object.keys(calls.Decide[0]), ['observation']);
  assert.ok(!JSON.stringify(calls.Notify[0]).includes('snapshot'), 'the snapshot travelled past Decide');
  assert.ok(JSON.stringify(calls.Notify[0]).length < 256 * 1024);
  assert.ok(entered.includes('WaitForNodes'));
});

const plan = { orphans: [{ instanceId: 'i-orphan', launchedAt: '2026-11-18T11:00:00Z' }], ghosts: ['ghost-1'], strayCordons: [], expiredLaunches: [] };

test('a tick with only left-overs: lock, reconcile, record, notify', async () => {
  const { entered, calls, error } = await run({
    CollectMetrics: observe, Decide: () => decision('None', { reconcile: plan }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 4 }),
    Reconcile: () => ({ terminated: ['i-orphan'], deletedNodes: ['ghost-1'], uncordoned: [], skipped: [] }),
    UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.deepEqual(entered, ['CollectMetrics', 'Decide', 'Act?', 'AcquireLock', 'Locked?', 'Reconcile', 'Route?', 'Record', 'Notify', 'Ended?', 'Done']);
  assert.deepEqual(calls.Reconcile[0], { plan, lock: { acquired: true, owner: 'exec-1', fence: 4 } });
  assert.deepEqual(calls.UpdateState[0].reconciled.terminated, ['i-orphan']);
  assert.deepEqual(calls.Notify[0].reconciled.deletedNodes, ['ghost-1']);
});

test('the reconcile pass runs before a launch; when it fails, nothing is launched and the failure is recorded', async () => {
  const before = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1, reconcile: plan }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 5 }),
    Reconcile: ok, LaunchNodes: () => ({ launchId: 'l', requested: 1, startedAt: 't', instances: [{ instanceId: 'i-1' }] }),
    CheckNodesReady: () => ({ status: 'AllReady' }), UpdateState: ok, Notify: ok,
  });
  assert.ok(before.entered.indexOf('Reconcile') < before.entered.indexOf('LaunchNodes'));

  const failed = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1, reconcile: plan }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 5 }),
    Reconcile: () => { throw named('LeaseNotHeldException', 'Fenced: an interruption took the lease'); },
    UpdateState: ok, Notify: ok,
  });
  assert.equal(failed.calls.LaunchNodes, undefined);
  assert.equal(failed.calls.UpdateState[0].error.Error, 'LeaseNotHeldException');
  assert.equal(failed.entered.at(-1), 'Failed');
});

test('every side effect carries the lease, so a preempted execution is fenced', async () => {
  const { calls } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' } }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 9 }),
    DrainNode: (e) => e.action === 'Start' ? { node: 'w3', status: 'Drained', startedAt: 't', also: e.also } : { node: 'w3', status: 'Deleted', startedAt: 't', also: e.also },
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  for (const call of [...calls.DrainNode, ...calls.TerminateNode]) assert.equal(call.lock.fence, 9);
});

test('another execution holds the lease: stop early, launch nothing', async () => {
  const { entered, calls, error } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1 }),
    AcquireLock: () => ({ acquired: false, refusedBecause: 'held by exec-0' }),
  });
  assert.equal(error, undefined);
  assert.equal(entered.at(-1), 'Busy');
  assert.equal(calls.LaunchNodes, undefined);
});

test('instances that never join are terminated and the launch is recorded as failed', async () => {
  const { calls } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 2 }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    LaunchNodes: () => ({ launchId: 'l', requested: 2, startedAt: 't', instances: [{ instanceId: 'i-1' }, { instanceId: 'i-2' }] }),
    CheckNodesReady: () => ({ status: 'Overdue', ready: [{ instanceId: 'i-1', node: 'n1' }], overdue: ['i-2'] }),
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-2']);
  assert.equal(calls.UpdateState[0].readiness.status, 'Overdue');
  assert.equal(calls.UpdateState[0].error, null);
});

test('a scale-up whose launch released the lease: the boot goes on, its cleanup is fenced by the launch record', async () => {
  const launch = { launchId: 'l', requested: 2, startedAt: 't', leaseReleased: true, instances: [{ instanceId: 'i-1' }, { instanceId: 'i-2' }] };
  const { calls, error, entered } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 2, reasonCode: 'PendingPods' }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    LaunchNodes: () => launch,
    CheckNodesReady: (e, n) => n === 1 ? { status: 'Waiting', ready: [], overdue: [] } : { status: 'Overdue', ready: [{ instanceId: 'i-1', node: 'n1' }], overdue: ['i-2'] },
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  // A scale-up for pending pods may take the lease from a scale-down drain.
  assert.equal(calls.AcquireLock[0].preemptDrain, true);
  assert.equal(entered.filter(n => n === 'CheckNodesReady').length, 2);
  // The cleanup names its launch, whose record (not the released lease) is its fence.
  assert.deepEqual(calls.TerminateNode[0].launch, launch);
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-2']);
  assert.equal(calls.UpdateState[0].launch.leaseReleased, true);
});

test('a drain whose lease was taken stops as Preempted: no abort, no terminate, recorded and notified', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' }, cooldown: 'ScaleDown' }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    DrainNode: (e, n) => ({ node: 'w3', status: n === 1 ? 'Draining' : 'Preempted', startedAt: 't0', also: e.also }),
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.equal(calls.AcquireLock[0].preemptDrain, false);
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Continue']);
  assert.equal(calls.TerminateNode, undefined);
  assert.equal(calls.UpdateState[0].drain.status, 'Preempted');
  assert.equal(entered.at(-1), 'Done');
});

test('scale down: drain until empty and the evicted pods are gone, terminate, delete the node, record', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' }, cooldown: 'ScaleDown' }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    DrainNode: (e, n) => e.action === 'Delete' ? { node: 'w3', status: 'Deleted', startedAt: 't', also: e.also }
      : { node: 'w3', status: ['Draining', 'Terminating', 'Terminating', 'Drained'][n - 1], startedAt: 't0', terminating: n > 1 ? [{ pod: 'shop/api', until: 't1' }] : [], also: e.also },
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  // The instance is terminated only after the last poll said Drained.
  assert.equal(entered.filter(n => n === 'DrainContinue').length, 3);
  assert.ok(entered.lastIndexOf('DrainContinue') < entered.indexOf('TerminateRemoved'));
  assert.equal(error, undefined);
  // Draining (a budget refused) and Terminating (evicted pods within their grace period) both wait and poll again.
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Continue', 'Continue', 'Continue', 'Delete']);
  assert.equal(calls.DrainNode[1].startedAt, 't0');
  const execution = 'arn:aws:states:us-east-1:123456789012:execution:nodefleet:exec-1';
  assert.deepEqual(calls.DrainNode[0], { action: 'Start', node: 'w3', also: [], executionId: execution, lock: { acquired: true, owner: 'exec-1', fence: 1 } });
  assert.equal(calls.DrainNode[1].executionId, execution);
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-3']);
  assert.equal(calls.UpdateState[0].drain.status, 'Drained');
  assert.deepEqual(calls.UpdateState[0].terminated, ok());
});

test('scale down with empty workers: each step of the drain path carries them, the instances go together', async () => {
  const alsoEmpty = [{ name: 'w4', instanceId: 'i-4' }, { name: 'w5', instanceId: 'i-5' }];
  const { calls, error } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' }, alsoEmpty, cooldown: 'ScaleDown' }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    // w5 got a pod before its cordon: the drain keeps only w4.
    DrainNode: (e, n) => ({ node: 'w3', status: e.action === 'Delete' ? 'Deleted' : n === 1 ? 'Draining' : 'Drained', startedAt: 't0', also: e.action === 'Start' ? [alsoEmpty[0]] : e.also }),
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.deepEqual(calls.DrainNode.map(c => [c.action, c.also]), [['Start', alsoEmpty], ['Continue', [alsoEmpty[0]]], ['Delete', [alsoEmpty[0]]]]);
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-3']);
  assert.deepEqual(calls.TerminateNode[0].also, [alsoEmpty[0]]);
  assert.deepEqual(calls.UpdateState[0].drain.also, [alsoEmpty[0]]);
});

test('a blocked drain with empty workers uncordons all of them', async () => {
  const alsoEmpty = [{ name: 'w4', instanceId: 'i-4' }];
  const { calls } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' }, alsoEmpty }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    DrainNode: (e) => ({ node: 'w3', status: e.action === 'Abort' ? 'Aborted' : 'Blocked', startedAt: 't', also: e.also }),
    UpdateState: ok, Notify: ok,
  });
  assert.deepEqual(calls.DrainNode.map(c => [c.action, c.also]), [['Start', alsoEmpty], ['Abort', alsoEmpty]]);
  assert.equal(calls.TerminateNode, undefined);
});

test('a blocked drain uncordons and is recorded as aborted', async () => {
  const { calls } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleDown', { nodeToRemove: { name: 'w3', instanceId: 'i-3' } }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    DrainNode: (e) => ({ node: 'w3', status: e.action === 'Abort' ? 'Aborted' : 'Blocked', startedAt: 't', also: e.also ?? [] }),
    UpdateState: ok, Notify: ok,
  });
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Abort']);
  // The abort names its execution: it lifts only its own cordon.
  assert.equal(calls.DrainNode[1].executionId, 'arn:aws:states:us-east-1:123456789012:execution:nodefleet:exec-1');
  assert.equal(calls.TerminateNode, undefined);
  // Why the drain stopped survives the uncordon, for the record and the notification.
  assert.equal(calls.UpdateState[0].drain.status, 'Blocked');
  assert.equal(calls.UpdateState[0].terminated, null);
  assert.equal(calls.Notify[0].drain.status, 'Blocked');
});

test('a failure after the lock releases it, notifies, and fails the execution visibly', async () => {
  const { calls, error } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1 }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    LaunchNodes: () => { throw named('AwsAccessDeniedException', 'ec2:CreateFleet denied'); },
    UpdateState: ok, Notify: ok,
  });
  assert.ok(error, 'the execution should fail');
  assert.equal(calls.UpdateState[0].error.Error, 'AwsAccessDeniedException');
  assert.equal(calls.Notify[0].error.Error, 'AwsAccessDeniedException');
});

test('a throttled step is retried, not failed', async () => {
  const { calls, error } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1 }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 1 }),
    LaunchNodes: (_, n) => { if (n < 3) throw named('AwsThrottledException'); return { launchId: 'l', requested: 1, startedAt: 't', instances: [{ instanceId: 'i-1' }] }; },
    CheckNodesReady: () => ({ status: 'AllReady' }), UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.equal(calls.LaunchNodes.length, 3);
  assert.equal(calls.UpdateState[0].readiness.status, 'AllReady');
});

test('Prometheus down: no lock, no scaling, the failure is notified', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: () => { throw named('MetricsUnavailableException', 'Prometheus could not be reached'); },
    Notify: ok,
  });
  assert.ok(error);
  assert.equal(calls.CollectMetrics.length, 2); // one retry
  assert.equal(calls.AcquireLock, undefined);
  assert.equal(calls.Notify[0].error.Error, 'MetricsUnavailableException');
  assert.equal(calls.Notify[0].decision, null);
  assert.equal(entered.at(-1), 'Failed');
});

const spot = { kind: 'SpotInterruption', notAfter: '2026-11-18T12:02:00Z' };
const interrupted = (status) => (e, n) => ({ node: 'w3', status: e.action === 'Delete' ? 'Deleted' : typeof status === 'function' ? status(e, n) : status, startedAt: 't', also: [] });

test('a spot interruption drains at once, launches a replacement, then retires the node once its drain is Drained', async () => {
  const { calls, error } = await run({
    CollectMetrics: () => ({ trigger: { kind: 'SpotInterruption', instanceId: 'i-3' }, snapshot: {}, fleet: {} }),
    Decide: () => decision('Replace', { nodesToAdd: 1, nodeToRemove: { name: 'w3', instanceId: 'i-3' }, interruption: spot }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 9 }),
    DrainNode: interrupted((e, n) => e.action === 'Start' ? 'Draining' : n === 2 ? 'Terminating' : 'Drained'),
    LaunchNodes: () => ({ launchId: 'l', requested: 1, startedAt: 't', instances: [{ instanceId: 'i-9' }] }),
    CheckNodesReady: () => ({ status: 'AllReady' }),
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  }, { 'detail-type': 'EC2 Spot Instance Interruption Warning', source: 'aws.ec2', detail: { 'instance-id': 'i-3' } });
  assert.equal(error, undefined);
  // After the replacement is Ready: evict what a budget refused, wait for the terminating pods (the Drainer caps that at notAfter).
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Continue', 'Continue', 'Delete']);
  assert.deepEqual(calls.DrainNode[0].interruption, spot);
  assert.deepEqual(calls.DrainNode[1].interruption, spot);
  assert.equal(calls.LaunchNodes.length, 1);
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-3']);
  assert.equal(calls.UpdateState[0].readiness.status, 'AllReady');
  assert.deepEqual(calls.UpdateState[0].terminated, ok());
});

test('dry run notifies what would be done and touches nothing', async () => {
  const { calls, error } = await run({ CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 2, dryRun: true }), Notify: ok });
  assert.equal(error, undefined);
  assert.equal(calls.AcquireLock, undefined);
  assert.equal(calls.Notify.length, 1);
});

const pipeBatch = [{ source: 'nodefleet.alertmanager', 'detail-type': 'Pending Pods', time: '2026-11-18T12:00:00.000Z', detail: { firing: 2 } }];

test('the fast path\'s batch (an array input) reaches CollectMetrics whole and the tick goes on as usual', async () => {
  const { entered, calls, error } = await run({ CollectMetrics: observe, Decide: () => decision('None') }, pipeBatch);
  assert.equal(error, undefined);
  assert.deepEqual(calls.CollectMetrics[0].event, pipeBatch);
  assert.deepEqual(Object.keys(calls.Decide[0]), ['observation']);
  assert.deepEqual(entered, ['CollectMetrics', 'Decide', 'Act?', 'Done']);
});

test('the fast path\'s batch: a CollectMetrics failure is notified, not lost to a ResultPath that cannot merge into an array', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: () => { throw named('InvalidInputException', 'Invalid trigger'); },
    Notify: ok,
  }, pipeBatch);
  assert.ok(error);
  assert.equal(calls.Notify[0].error.Error, 'InvalidInputException');
  assert.deepEqual(entered.slice(0, 3), ['CollectMetrics', 'PrepareFailure', 'Notify']);
  assert.equal(entered.at(-1), 'Failed');
});

test('a malformed trigger fails clearly before anything is touched', async () => {
  const { calls, error } = await run({
    CollectMetrics: () => { throw named('InvalidInputException', 'Invalid trigger: $.detail.instance-id is missing'); },
    Notify: ok,
  }, { 'detail-type': 'EC2 Spot Instance Interruption Warning', detail: {} });
  assert.ok(error);
  assert.equal(calls.CollectMetrics.length, 1); // not retried
  assert.equal(calls.Decide, undefined);
});

test('a rebalance whose pods could not all be evicted launches the replacement and keeps the node: no terminate', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: observe,
    Decide: () => decision('Replace', { nodesToAdd: 1, nodeToRemove: { name: 'w3', instanceId: 'i-3' }, interruption: { kind: 'Rebalance' } }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 4 }),
    DrainNode: interrupted('AwaitingInterruption'),
    LaunchNodes: () => ({ launchId: 'l', requested: 1, startedAt: 't', instances: [{ instanceId: 'i-9' }] }),
    CheckNodesReady: () => ({ status: 'AllReady' }),
    UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.equal(calls.LaunchNodes.length, 1);
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Continue']);
  assert.equal(calls.TerminateNode, undefined);
  assert.equal(calls.UpdateState[0].drain.status, 'AwaitingInterruption');
  assert.ok(!entered.includes('AbortDrain'), 'the node must stay cordoned for the spot warning');
});

test('an interruption at the maximum drains and retires the node without a replacement', async () => {
  const { calls, error } = await run({
    CollectMetrics: observe,
    Decide: () => decision('Replace', { nodesToAdd: 0, nodeToRemove: { name: 'w3', instanceId: 'i-3' }, interruption: spot }),
    AcquireLock: () => ({ acquired: true, owner: 'exec-1', fence: 4 }),
    DrainNode: interrupted((e) => e.action === 'Start' ? 'Terminating' : 'Drained'),
    TerminateNode: ok, UpdateState: ok, Notify: ok,
  });
  assert.equal(error, undefined);
  assert.equal(calls.LaunchNodes, undefined);
  assert.deepEqual(calls.DrainNode.map(c => c.action), ['Start', 'Continue', 'Delete']);
  assert.deepEqual(calls.TerminateNode[0].instanceIds, ['i-3']);
  assert.equal(calls.AcquireLock[0].route, 'Retire');
});

test('a failure to take the lease is notified, and nothing is recorded (no lease is held)', async () => {
  const { calls, error, entered } = await run({
    CollectMetrics: observe, Decide: () => decision('ScaleUp', { nodesToAdd: 1 }),
    AcquireLock: () => { throw named('AwsAccessDeniedException', 'dynamodb:UpdateItem denied'); },
    Notify: ok,
  });
  assert.ok(error);
  assert.equal(calls.UpdateState, undefined);
  assert.equal(calls.Notify[0].error.Error, 'AwsAccessDeniedException');
  assert.deepEqual(entered.slice(-3), ['Notify', 'Ended?', 'Failed']);
});

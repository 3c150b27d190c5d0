// Runs statemachines/autoscaler.asl.json with aws-local-stepfunctions, each Task answered by the
// real C# handler behind the local invoke host (tests/NodeFleet.LocalHost).
//
//   node tests/workflow/local-runner.mjs --host http://127.0.0.1:PORT [--input FILE] [--wait-seconds N] [--name NAME]
//
// Prints one JSON object: status, start time, the states entered in order, their count (state
// transitions), each Task invocation with its time (ms since the epoch), the errors the handlers
// raised (retried or caught), and the output or error.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { substitute, substitutions, stepOf } from './definition.mjs';

const { StateMachine } = await import('aws-local-stepfunctions');

/** Executes one run. Wait states last waitSeconds (the one setting that compresses time); retries keep their real backoff. */
export async function runLocal({ host, input = {}, waitSeconds = 0, name = randomUUID(), log = () => {} }) {
  const definition = JSON.parse(substitute(substitutions({ readyPollSeconds: Math.max(1, waitSeconds), drainPollSeconds: Math.max(1, waitSeconds) })));
  const states = definition.States;
  const handlers = {};
  const calls = [];
  const errors = [];
  for (const [stateName, state] of Object.entries(states).filter(([, s]) => s.Type === 'Task')) {
    const step = stepOf(state);
    handlers[stateName] = async (event) => {
      calls.push({ state: stateName, step, at: Date.now() });
      const response = await fetch(new URL(`invoke/${step}`, host), { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
      const body = await response.json();
      if (!response.ok) {
        errors.push({ state: stateName, error: body.errorType, message: body.errorMessage });
        log({ state: stateName, step, error: body.errorType, message: body.errorMessage });
        // Step Functions puts Lambda's whole error document in a Catch's Cause, stack trace included.
        throw Object.assign(new Error(JSON.stringify(body)), { name: body.errorType });
      }

      log({ state: stateName, step, ok: true });
      return body;
    };
  }

  const waits = Object.fromEntries(Object.entries(states).filter(([, s]) => s.Type === 'Wait').map(([n]) => [n, waitSeconds * 1000]));
  const executionId = `arn:aws:states:us-east-1:123456789012:execution:nodefleet:${name}`;
  const execution = new StateMachine(definition, { validationOptions: { checkArn: false } }).run(input, {
    // Retries keep the definition's own backoff: a retry 100 ms later would meet the same
    // transient fault (e.g. series marked stale after one slow scrape) that the backoff rides out.
    overrides: { taskResourceLocalHandlers: handlers, waitTimeOverrides: waits },
    context: { Execution: { Id: executionId, Name: name } },
  });
  const startedAt = Date.now();
  const entered = [];
  const events = (async () => { for await (const e of execution.eventLogs) if (e.type === 'StateEntered') entered.push(e.state.name); })();
  let output, error;
  try { output = await execution.result; } catch (e) { error = { name: e.name, message: e.message }; }
  await events;
  return { executionId, status: error ? 'FAILED' : 'SUCCEEDED', startedAt, entered, transitions: entered.length, calls, errors, output, error };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { host: { type: 'string' }, input: { type: 'string' }, 'wait-seconds': { type: 'string', default: '0' }, name: { type: 'string' } } });
  if (!values.host) {
    console.error('local-runner: --host http://127.0.0.1:PORT (the local invoke host) is required');
    process.exit(2);
  }

  const input = values.input ? JSON.parse(readFileSync(values.input === '-' ? 0 : values.input, 'utf8')) : {};
  const result = await runLocal({ host: values.host, input, waitSeconds: Number(values['wait-seconds']), name: values.name });
  console.log(JSON.stringify(result));
}

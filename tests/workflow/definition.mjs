// The state machine as the deployment sees it: statemachines/autoscaler.asl.json with its
// placeholders filled the way CDK's DefinitionSubstitutions fill them.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The one list of steps (functions/steps.json), as the CDK app and the local host read it. */
export const catalog = JSON.parse(readFileSync(join(root, 'functions', 'steps.json'), 'utf8')).steps;
export const steps = catalog.map(s => s.name);
export const raw = readFileSync(join(root, 'statemachines', 'autoscaler.asl.json'), 'utf8');

export function substitutions({ readyPollSeconds = 30, drainPollSeconds = 20 } = {}) {
  return Object.fromEntries([
    ...steps.map(s => [`${s}FunctionArn`, `arn:aws:lambda:us-east-1:123456789012:function:nodefleet-${s}`]),
    ['ReadyPollSeconds', String(readyPollSeconds)], ['DrainPollSeconds', String(drainPollSeconds)],
  ]);
}

export function substitute(values = substitutions()) {
  return raw.replace(/\$\{(\w+)\}/g, (_, key) => {
    if (!(key in values)) throw new Error(`unknown placeholder ${key}`);
    return values[key];
  });
}

/** The step a Task state invokes, from its Resource ARN. */
export const stepOf = (state) => state.Resource.split(':function:nodefleet-')[1];

// aws-local-stepfunctions needs Promise.withResolvers, which node 20 lacks (without it every Task
// fails with a TypeError that a Catch would hide).
if (!Promise.withResolvers) {
  Promise.withResolvers = () => { let resolve, reject; const promise = new Promise((a, b) => { resolve = a; reject = b; }); return { promise, resolve, reject }; };
}

// The lines a command prints when it has started a run: its ids, and where the Temporal UI shows it.

/** `run <id>  (<workflow id>)`, then the run's page in the Temporal UI when there is one. */
export function printStarted(started: { runId: string; workflowId: string }, uiUrl: string | undefined, namespace: string): void {
  console.log(`run ${started.runId}  (${started.workflowId})`);
  if (uiUrl) console.log(`Temporal UI: ${uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(started.workflowId)}/${started.runId}/history`);
}

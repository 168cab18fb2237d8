/** Whether dist/ holds a build of the sources as they are now. */
export function buildIsCurrent(): boolean;

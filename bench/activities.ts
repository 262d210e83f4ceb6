/** A trivial activity. */
export async function touch(): Promise<string> {
  return 'ok';
}

// Activities used by the embedded server's test workflows.

/** Greets by name. */
export async function greet(name: string): Promise<string> {
  return `hello ${name}`;
}

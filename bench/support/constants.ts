/** What the bench's Convoy clients send to the Convoy sink. */
export const PROJECT = '01BENCHPROJECT00000000000P';
export const API_KEY = 'CO.bench.key';
/** The event every scenario publishes: a todo of the sample, 329 bytes of JSON. */
export const todo = {
  id: 42,
  title: 'Buy milk',
  description: 'x'.repeat(200),
  completed: false,
  tags: ['home', 'errands'],
  created_at: '2026-11-24T10:00:00.000Z',
};

// The answer public/early.js asked for while the app was still loading (see there), taken once.
interface Early {
  page: string;
  answer: Promise<Response>;
}

export function takeEarly(page: string): Promise<Response> | null {
  const holder = window as unknown as { palaceEarly?: Early | null };
  const early = holder.palaceEarly;
  if (!early || early.page !== page) return null;
  holder.palaceEarly = null;
  return early.answer;
}

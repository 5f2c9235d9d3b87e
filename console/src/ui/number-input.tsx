/** A narrow number field; an empty or partial entry reads as NaN, which the service refuses with a message. */
export function NumberInput({ value, min, max, testId, onValue }: { value: number; min: number; max: number; testId?: string; onValue: (n: number) => void }) {
  return <input type="number" min={min} max={max} class="narrow" value={value} data-testid={testId} onInput={(e) => onValue(e.currentTarget.valueAsNumber)} />;
}

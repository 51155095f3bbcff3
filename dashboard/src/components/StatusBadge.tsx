// A task's or a Skald's status: colour and text (never colour alone).
export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${status.toLowerCase()}`}>{status}</span>
}

export function LinkDialog({
  url,
  onOpen,
  onCancel,
}: {
  url: string;
  onOpen: () => void;
  onCancel: () => void;
}) {
  return (
    <div className="modal-backdrop" role="dialog" aria-modal="true" aria-labelledby="link-title">
      <div className="modal">
        <h2 id="link-title">Open this link in your browser?</h2>
        <p className="url">{url}</p>
        <div className="actions">
          <button onClick={onCancel} autoFocus>
            Cancel
          </button>
          <button onClick={onOpen}>Open</button>
        </div>
      </div>
    </div>
  );
}

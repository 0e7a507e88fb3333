// Lines that frame the guest's output on the console, so the host shows only the demo (not the
// kernel's boot and power-off messages). Never printed to the user.
export const GUEST_START_MARK = '@@rackstrap-demo-start@@';
export const GUEST_DONE_MARK = '@@rackstrap-demo-done@@';
